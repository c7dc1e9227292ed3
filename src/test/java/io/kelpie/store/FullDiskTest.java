package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The file store on a disk that fills up ({@link FullDiskChannel}): a change that runs out of
 * space part-way fails with NO_SPACE and leaves the object as a reader can take it (every block
 * verifies, the version does not count the write), and writes go on once there is room again.
 */
@Timeout(30)
class FullDiskTest {
    private static final long OID = 0x00c0ffee_00000001L;
    private static final long PLENTY = Long.MAX_VALUE / 2;

    @TempDir
    Path dir;
    final AtomicLong room = new AtomicLong(PLENTY);
    FileObjectStore store;

    @BeforeEach
    void open() throws IOException {
        store = new FileObjectStore(dir.resolve("objects"));
        FullDiskChannel.install(store, room);
    }

    @AfterEach
    void close() throws IOException {
        room.set(PLENTY);
        store.close();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** The object's first {@code n} bytes, verified (a torn block throws ChecksumException). */
    static byte[] read(ObjectStore s, long oid, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        s.read(oid, 0, b);
        return b.array();
    }

    static void assertNoSpace(IOExceptionCall call) {
        KelpieException e = assertThrows(KelpieException.class, call::run);
        assertEquals(Status.NO_SPACE, e.status(), e.getMessage());
    }

    interface IOExceptionCall {
        void run() throws IOException;
    }

    private void assertWhole(long oid, byte[] expected) throws IOException {
        assertArrayEquals(expected, read(store, oid, expected.length));
        assertEquals(List.of(), store.stat(oid, true).badBlocks(), "the scrub finds torn blocks");
    }

    @Test
    void aWriteThatRunsOutPartWayLeavesEveryBlockVerifiedAndTheVersionUncounted() throws Exception {
        byte[] old = random(256 << 10, 1);
        store.write(OID, 0, ByteBuffer.wrap(old));
        long version = store.version(OID);

        // 100 KiB and a bit fit: a whole 64 KiB piece, a short one ending inside a block, then ENOSPC.
        int fits = (100 << 10) + 123;
        room.set(fits);
        byte[] fresh = random(256 << 10, 2);
        assertNoSpace(() -> store.write(OID, 0, ByteBuffer.wrap(fresh)));

        byte[] expected = old.clone();
        System.arraycopy(fresh, 0, expected, 0, fits);
        assertWhole(OID, expected);
        assertEquals(version, store.version(OID), "the version counts a write that did not happen");

        // The same after a restart: the table on disk matches the file too.
        store.close();
        store = new FileObjectStore(dir.resolve("objects"));
        assertWhole(OID, expected);
        assertEquals(version, store.version(OID));

        FullDiskChannel.install(store, room);
        room.set(PLENTY);
        store.write(OID, 0, ByteBuffer.wrap(fresh));
        assertWhole(OID, fresh);
        assertEquals(version + 1, store.version(OID));
    }

    @Test
    void aWriteOfSeveralBuffersAndATriedWriteStopWhereTheSpaceDid() throws Exception {
        byte[] a = random(12 << 10, 3);
        byte[] b = random(20 << 10, 4);
        room.set((12 << 10) + 5000); // all of a, and 5000 bytes of b
        assertNoSpace(() -> store.write(OID, 4096, new ByteBuffer[] {ByteBuffer.wrap(a), ByteBuffer.wrap(b)}));
        byte[] expected = new byte[4096 + (12 << 10) + 5000];
        System.arraycopy(a, 0, expected, 4096, a.length);
        System.arraycopy(b, 0, expected, 4096 + a.length, 5000);
        assertWhole(OID, expected);
        assertEquals(0, store.version(OID));

        // A small write on the cached object (the event loop's path) runs out in the middle of a block.
        room.set(1000);
        byte[] c = random(8192, 5);
        assertNoSpace(() -> store.tryWrite(OID, 2048, ByteBuffer.wrap(c)));
        System.arraycopy(c, 0, expected, 2048, 1000);
        assertWhole(OID, expected);
        assertEquals(0, store.version(OID));
    }

    @Test
    void aWriteThatWouldHaveCreatedTheObjectLeavesNoneBehind() throws Exception {
        room.set(0);
        assertNoSpace(() -> store.write(OID, 0, ByteBuffer.wrap(random(4096, 6))));
        assertFalse(store.exists(OID));
        assertFalse(Files.exists(store.metaPathOf(OID)), "an empty table was left");
        assertEquals(List.of(), store.list());

        room.set(PLENTY);
        byte[] data = random(4096, 6);
        store.write(OID, 0, ByteBuffer.wrap(data));
        assertWhole(OID, data);
        assertEquals(1, store.version(OID));
    }

    @Test
    void aZeroThatRunsOutPartWayLeavesEveryBlockVerified() throws Exception {
        byte[] old = random(64 << 10, 7);
        store.write(OID, 0, ByteBuffer.wrap(old));
        long version = store.version(OID);
        room.set(10_000); // zeros from 4096: two blocks and a bit
        assertNoSpace(() -> store.zero(OID, 4096, 32 << 10));
        byte[] expected = old.clone();
        Arrays.fill(expected, 4096, 4096 + 10_000, (byte) 0);
        assertWhole(OID, expected);
        assertEquals(version, store.version(OID));
    }

    @Test
    void aFullDiskEndsAtAProbeThatWritesOnlyAfterACalm() throws Exception {
        FullDisk d = new FullDisk(dir, 1000);
        d.probeWrote();
        assertFalse(d.full());
        d.ranOut("No space left on device");
        d.probeWrote(); // a block for the probe, while writes still run out: still full
        assertTrue(d.full());
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (d.full() && System.nanoTime() < deadline) {
            d.probeWrote();
            Thread.sleep(20);
        }
        assertFalse(d.full(), "no calm ended it");
    }

    @Test
    void aFullDiskDisablesNothingFailsNoStoreAndWritesGoOnOnceThereIsRoom() throws Exception {
        AtomicReference<String> failure = new AtomicReference<>();
        HealthCheckedStore s = new HealthCheckedStore(store, store.dir(), failure::set, 0);
        byte[] data = random(8192, 8);
        s.write(OID, 0, ByteBuffer.wrap(data));
        room.set(0);
        for (int i = 0; i < 2 * HealthCheckedStore.STORE_ERRORS; i++) {
            long oid = OID + i % 3; // the object that exists and two that would be created
            assertNoSpace(() -> s.write(oid, 4096, ByteBuffer.wrap(random(8192, 9))));
        }
        assertTrue(s.full());
        assertFalse(s.disabled(OID));
        assertNull(failure.get(), "a full disk failed the store");
        assertArrayEquals(data, read(s, OID, data.length), "reads go on");
        assertFalse(s.exists(OID + 1));

        room.set(PLENTY);
        byte[] more = random(8192, 10);
        s.write(OID, 4096, ByteBuffer.wrap(more));
        s.write(OID + 1, 0, ByteBuffer.wrap(more));
        byte[] expected = Arrays.copyOf(data, 4096 + more.length);
        System.arraycopy(more, 0, expected, 4096, more.length);
        assertArrayEquals(expected, read(s, OID, expected.length));
        assertArrayEquals(more, read(s, OID + 1, more.length));
        s.probe(); // the probe (not the full disk's test channel) passes: space again
        assertFalse(s.full());
        assertNull(failure.get());
    }
}
