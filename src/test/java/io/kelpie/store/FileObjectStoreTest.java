package io.kelpie.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileObjectStoreTest extends ObjectStoreContract {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore newStore() throws Exception {
        return new FileObjectStore(dir.resolve("objects"), 4);
    }

    @Test
    void objectsAreSparseFilesNamedByHexId() throws Exception {
        store.write(0x00abcdef_00000003L, 4L << 20, ByteBuffer.wrap(new byte[] {1}));
        Path p = dir.resolve("objects").resolve("00abcdef00000003");
        assertTrue(Files.exists(p));
        assertEquals((4L << 20) + 1, Files.size(p));
    }

    @Test
    void survivesChannelEvictionAndReopen() throws Exception {
        // capacity 4: writing 20 objects forces evictions while data must stay intact
        for (int i = 0; i < 20; i++) {
            store.write(i, 0, ByteBuffer.wrap(random(512, i)));
        }
        for (int i = 0; i < 20; i++) {
            assertArrayEquals(random(512, i), read(i, 0, 512));
        }
        store.flush();
        store.close();
        store = newStore();
        for (int i = 0; i < 20; i++) {
            assertArrayEquals(random(512, i), read(i, 0, 512));
        }
    }

    @Test
    void cachedReadsSeeEveryWriteAndDeclineWhatIsNotMapped() throws Exception {
        byte[] a = random(64 << 10, 1);
        assertFalse(store.tryReadCached(7, 0, ByteBuffer.allocateDirect(16)), "absent object");
        store.write(7, 0, ByteBuffer.wrap(a));
        ByteBuffer got = ByteBuffer.allocateDirect(4096);
        assertTrue(store.tryReadCached(7, 8192, got), "just written: resident and mapped");
        assertEquals(ByteBuffer.wrap(a, 8192, 4096), got.flip());
        // a later pwrite is visible through the mapping at once
        byte[] b = random(4096, 2);
        store.write(7, 8192, ByteBuffer.wrap(b));
        got.clear();
        assertTrue(store.tryReadCached(7, 8192, got));
        assertEquals(ByteBuffer.wrap(b), got.flip());
        // past the end of the file (or of the mapping): declined, nothing filled
        ByteBuffer beyond = ByteBuffer.allocate(4096);
        assertFalse(store.tryReadCached(7, (64 << 10) - 100, beyond));
        assertEquals(0, beyond.position());
        // the file grows: the next write remaps, so the new bytes are served too
        store.write(7, 1 << 20, ByteBuffer.wrap(b));
        assertTrue(store.tryReadCached(7, 1 << 20, beyond));
        assertEquals(ByteBuffer.wrap(b), beyond.flip());
        // a removed object is never served from its old mapping, and is unmapped (its blocks freed)
        Path file = dir.resolve("objects").resolve("0000000000000007");
        assertTrue(Files.readString(Path.of("/proc/self/maps")).contains(file.toString()));
        store.remove(7);
        assertFalse(Files.readString(Path.of("/proc/self/maps")).contains(file.toString()));
        assertFalse(store.tryReadCached(7, 8192, ByteBuffer.allocate(16)));
        assertArrayEquals(new byte[16], read(7, 8192, 16));
    }

    private static long rssFileKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("RssFile:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no RssFile in /proc/self/status");
    }

    @Test
    void cachedReadsDoNotGrowTheResidentSet() throws Exception {
        byte[] a = random(4 << 20, 9);
        store.write(9, 0, ByteBuffer.wrap(a));
        store.read(9, 0, ByteBuffer.allocate(4096)); // an I/O thread's read maps the file
        long before = rssFileKb();
        ByteBuffer got = ByteBuffer.allocateDirect(64 << 10);
        for (int off = 0; off < a.length; off += got.capacity()) {
            got.clear();
            assertTrue(store.tryReadCached(9, off, got), "resident at " + off);
            assertEquals(ByteBuffer.wrap(a, off, got.capacity()), got.flip());
        }
        long grown = rssFileKb() - before;
        assertTrue(grown < 1024, "4 MiB served from the page cache added " + grown + " KiB of mapped pages to RSS");
    }

    @Test
    void triedWritesDeclineWhatWouldWaitAndCountLikeWrites() throws Exception {
        byte[] a = random(4096, 3);
        assertFalse(store.tryWrite(8, 0, ByteBuffer.wrap(a)), "absent: it would open (create) a file");
        assertFalse(store.exists(8));
        store.write(8, 0, ByteBuffer.wrap(random(64 << 10, 4)));
        long v = store.version(8);
        assertTrue(store.tryWrite(8, 4096, ByteBuffer.wrap(a)));
        assertEquals(v + 1, store.version(8), "one version per write, however it ran");
        assertArrayEquals(a, read(8, 4096, 4096));
        assertTrue(store.stat(8, true).badBlocks().isEmpty(), "its block checksums were updated");
        // another thread holds the object's lock (a write in progress): declined, nothing written
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            ((FileObjectStore) store).lock(8).lock();
            held.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                ((FileObjectStore) store).lock(8).unlock();
            }
        });
        t.start();
        held.await();
        try {
            assertFalse(store.tryWrite(8, 0, ByteBuffer.wrap(a)));
        } finally {
            done.countDown();
            t.join();
        }
        assertEquals(v + 1, store.version(8));
        assertTrue(store.tryWrite(8, 0, ByteBuffer.wrap(a)));
        assertArrayEquals(a, read(8, 0, 4096));
    }

    private Path objects() {
        return dir.resolve("objects");
    }

    @Test
    void versionsAndChecksumsSurviveAReopenAndRotInTheFileIsFound() throws Exception {
        byte[] content = random(16 * B, 20);
        store.write(40, 0, ByteBuffer.wrap(content));
        store.write(40, 3 * B, ByteBuffer.wrap(content, 3 * B, B));
        int digest = store.stat(40, false).digest();
        assertTrue(store.tryReadCached(40, 9 * B, ByteBuffer.allocate(B)), "resident before the rot");
        store.close();
        FaultyStore.flipByte(objects().resolve("0000000000000028"), 9 * B + 4095);
        store = newStore();
        assertEquals(new ObjectStore.ObjectMeta(true, 2, digest, List.of(9)), store.stat(40, true));
        assertEquals(9, assertThrows(ChecksumException.class, () -> read(40, 8 * B, 4 * B)).block());
        // the mapping of a rotten block is declined, its neighbours are served from it
        read(40, 0, B);
        assertFalse(store.tryReadCached(40, 9 * B, ByteBuffer.allocate(B)));
        ByteBuffer next = ByteBuffer.allocate(B);
        assertTrue(store.tryReadCached(40, 10 * B, next));
        assertEquals(ByteBuffer.wrap(content, 10 * B, B), next.flip());
        ByteBuffer part = ByteBuffer.allocate(10);
        assertFalse(store.tryReadCached(40, 8 * B + 3, part), "not whole blocks: the I/O thread reads it");
        assertEquals(0, part.position());
        assertArrayEquals(java.util.Arrays.copyOfRange(content, 8 * B + 3, 8 * B + 13), read(40, 8 * B + 3, 10));
    }

    @Test
    void objectsFromBeforeChecksumsAreTakenAsTheyAreAtVersionOne() throws Exception {
        byte[] content = random(5 * B + 7, 21);
        System.arraycopy(new byte[B], 0, content, B, B);
        store.write(41, 0, ByteBuffer.wrap(content));
        int digest = store.stat(41, false).digest();
        store.close();
        Files.createDirectories(objects());
        Files.write(objects().resolve("0000000000000029"), content); // an old object: no .meta
        store = newStore();
        assertTrue(store.exists(41));
        assertEquals(1, store.version(41));
        assertArrayEquals(content, read(41, 0, content.length));
        assertEquals(new ObjectStore.ObjectMeta(true, 1, digest, List.of()), store.stat(41, true));
        assertTrue(Files.exists(objects().resolve("0000000000000029.meta")), "a table made on first open");
        store.write(41, 0, ByteBuffer.wrap(new byte[] {1}));
        store.close();
        store = newStore();
        assertEquals(2, store.version(41));
        assertEquals(List.of(41L), store.list());
    }

    @Test
    void aTornVersionSlotLeavesThePreviousVersion() throws Exception {
        store.write(42, 0, ByteBuffer.wrap(random(100, 22)));
        store.write(42, 0, ByteBuffer.wrap(random(100, 23)));
        store.write(42, 0, ByteBuffer.wrap(random(100, 24))); // version 3, in slot 1
        store.close();
        FaultyStore.flipByte(objects().resolve("000000000000002a.meta"), BlockTable.SLOT1 + 9);
        store = newStore();
        assertEquals(2, store.version(42));
        store.write(42, 0, ByteBuffer.wrap(random(100, 25)));
        assertEquals(3, store.version(42), "the next write goes on from it");
    }

    @Test
    void anInstallInterruptedAfterItsCommitIsFinishedAndOneBeforeItIsUndone() throws Exception {
        byte[] old = random(2 * B, 26);
        byte[] fresh = random(3 * B, 27);
        store.write(43, 0, ByteBuffer.wrap(old));
        store.write(44, 0, ByteBuffer.wrap(old));
        store.install(45, 77, ByteBuffer.wrap(fresh)); // a template of a finished install
        store.close();
        Path o = objects();
        // 43: crashed after the commit, before either rename; 44: crashed before the commit
        Files.copy(o.resolve("000000000000002d"), o.resolve("000000000000002b.new"));
        Files.copy(o.resolve("000000000000002d.meta"), o.resolve("000000000000002b.meta.new"));
        Files.copy(o.resolve("000000000000002d"), o.resolve("000000000000002c.new"));
        Files.copy(o.resolve("000000000000002d.meta"), o.resolve("000000000000002c.meta.tmp"));
        Files.write(o.resolve("00000000000000ff.meta"), new byte[8192]); // an orphan table
        store = newStore();
        assertEquals(77, store.version(43));
        assertArrayEquals(fresh, read(43, 0, 3 * B));
        assertEquals(1, store.version(44));
        assertArrayEquals(old, read(44, 0, 2 * B));
        assertArrayEquals(new byte[B], read(44, 2 * B, B));
        try (var names = Files.list(o)) {
            assertEquals(List.of("000000000000002b", "000000000000002b.meta", "000000000000002c",
                    "000000000000002c.meta", "000000000000002d", "000000000000002d.meta"),
                    names.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void removeAndMoveTakeTheTableAlong() throws Exception {
        store.write(46, 0, ByteBuffer.wrap(random(B, 28)));
        store.write(46, 0, ByteBuffer.wrap(random(B, 29)));
        FileObjectStore other = new FileObjectStore(dir.resolve("stale"), 4);
        ((FileObjectStore) store).moveTo(46, other);
        assertFalse(store.exists(46));
        assertFalse(Files.exists(objects().resolve("000000000000002e.meta")));
        assertEquals(2, other.version(46));
        assertArrayEquals(random(B, 29), readFrom(other, 46, B));
        assertTrue(other.remove(46));
        try (var names = Files.list(dir.resolve("stale"))) {
            assertEquals(0, names.count());
        }
        other.close();
    }

    private static byte[] readFrom(ObjectStore s, long oid, int n) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(n);
        s.read(oid, 0, b);
        return b.array();
    }

    @Test
    void racingWritesAndReadsOfOneObjectNeverLookRotten() throws Exception {
        long deadline = System.nanoTime() + 1_500_000_000L;
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();
        List<Thread> threads = new java.util.ArrayList<>();
        for (int t = 0; t < 6; t++) {
            boolean writer = t < 3;
            int seed = t;
            threads.add(new Thread(() -> {
                java.util.Random r = new java.util.Random(seed);
                try {
                    while (System.nanoTime() < deadline && failure.get() == null) {
                        int at = r.nextInt(64) * B + (r.nextBoolean() ? 0 : r.nextInt(B)); // same blocks, often unaligned
                        int n = 1 + r.nextInt(2 * B);
                        if (writer) {
                            store.write(47, at, ByteBuffer.wrap(random(n, r.nextLong())));
                            writes.incrementAndGet();
                        } else if (!store.tryReadCached(47, at, ByteBuffer.allocate(n))) {
                            store.read(47, at, ByteBuffer.allocate(n));
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("after " + writes.get() + " writes", failure.get());
        }
        assertEquals(writes.get(), store.version(47));
        assertTrue(store.stat(47, true).verified());
    }

    @Test
    void tablesAreMappedWithoutHoldingADescriptor() throws Exception {
        for (int i = 0; i < 3; i++) {
            store.write(48 + i, 0, ByteBuffer.wrap(random(B, i)));
        }
        String meta = objects().resolve("0000000000000030.meta").toString();
        assertTrue(Files.readString(Path.of("/proc/self/maps")).contains(meta), "mapped");
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            List<String> open = fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (Exception e) {
                    return "";
                }
            }).toList();
            assertTrue(open.contains(objects().resolve("0000000000000030").toString()), "the data file is open");
            assertFalse(open.stream().anyMatch(f -> f.endsWith(".meta")), "no table file is: " + open);
        }
        store.remove(48);
        assertFalse(Files.readString(Path.of("/proc/self/maps")).contains(meta), "unmapped when removed");
    }
}
