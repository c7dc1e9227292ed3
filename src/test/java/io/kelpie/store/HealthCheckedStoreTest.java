package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node's policy for store I/O errors: disable the object, or fail the whole store. */
@Timeout(30)
class HealthCheckedStoreTest {
    @TempDir
    Path dir;

    final AtomicReference<String> failure = new AtomicReference<>();

    static byte[] read(ObjectStore s, long oid, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        s.read(oid, 0, b);
        return b.array();
    }

    @Test
    void repeatedReadErrorsDisableTheObjectUntilAGoodCopyIsInstalled() throws Exception {
        FaultyStore faulty = new FaultyStore(new MemoryObjectStore());
        HealthCheckedStore s = new HealthCheckedStore(faulty, dir, failure::set, 0);
        s.write(1, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        s.write(2, 0, ByteBuffer.wrap(new byte[] {9}));
        faulty.failReads(oid -> oid == 1);
        for (int i = 1; i < HealthCheckedStore.READ_ERRORS; i++) {
            assertThrows(IOException.class, () -> read(s, 1, 3));
            assertFalse(s.disabled(1), "disabled after " + i + " errors");
        }
        assertThrows(IOException.class, () -> read(s, 1, 3));
        assertTrue(s.disabled(1));
        faulty.heal();
        IOException e = assertThrows(IOException.class, () -> read(s, 1, 3));
        assertTrue(e.getMessage().contains("disabled"), e.getMessage());
        assertThrows(IOException.class, () -> s.write(1, 0, ByteBuffer.wrap(new byte[] {4})));
        // Never a source: it fails verification; other objects are untouched.
        assertEquals(List.of(-1), s.stat(1, false).badBlocks());
        assertArrayEquals(new byte[] {9}, read(s, 2, 1));
        assertTrue(s.version(1) > 0, "versions still answer (LIST_VERSIONS)");

        s.install(1, 7, ByteBuffer.wrap(new byte[] {5, 6, 7}));
        assertFalse(s.disabled(1));
        assertArrayEquals(new byte[] {5, 6, 7}, read(s, 1, 3));
        assertNull(failure.get());
    }

    @Test
    void aFailedWriteDisablesAtOnceAndASuccessResetsTheReadCount() throws Exception {
        FaultyStore faulty = new FaultyStore(new MemoryObjectStore());
        HealthCheckedStore s = new HealthCheckedStore(faulty, dir, failure::set, 0);
        s.write(3, 0, ByteBuffer.wrap(new byte[] {1}));
        faulty.failReads(oid -> true);
        assertThrows(IOException.class, () -> read(s, 3, 1));
        faulty.heal();
        read(s, 3, 1);
        faulty.failReads(oid -> true);
        for (int i = 1; i < HealthCheckedStore.READ_ERRORS; i++) {
            assertThrows(IOException.class, () -> read(s, 3, 1));
        }
        assertFalse(s.disabled(3), "the success between reset the count");
        faulty.heal().failWrites(oid -> oid == 4);
        assertThrows(IOException.class, () -> s.write(4, 0, ByteBuffer.wrap(new byte[] {1})));
        assertTrue(s.disabled(4));
        faulty.heal();
        assertTrue(s.remove(4) || !s.exists(4));
        assertFalse(s.disabled(4), "a removed object is enabled again");
        assertNull(failure.get());
    }

    @Test
    void aDataDirectoryThatGoesAwayFailsTheWholeStoreOnce() throws Exception {
        Path objects = Files.createDirectory(dir.resolve("objects"));
        HealthCheckedStore s = new HealthCheckedStore(new MemoryObjectStore(), objects, failure::set, 20);
        s.write(1, 0, ByteBuffer.wrap(new byte[] {1}));
        Files.move(objects, dir.resolve("gone")); // a move, unlike a delete, cannot race with the probe's own file
        long deadline = System.currentTimeMillis() + 10_000;
        while (failure.get() == null && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        assertNotNull(failure.get(), "the probe noticed nothing");
        assertTrue(failure.get().contains(objects.toString()), failure.get());
        assertEquals(failure.get(), s.failure());
        IOException e = assertThrows(IOException.class, () -> read(s, 1, 1));
        assertTrue(e.getMessage().contains("failed"), e.getMessage());
        s.close();
    }

    @Test
    void aFullDiskDisablesNoObjectButOneItsRepairCouldNotReplace() throws Exception {
        FaultyStore faulty = new FaultyStore(new MemoryObjectStore());
        HealthCheckedStore s = new HealthCheckedStore(faulty, dir, failure::set, 0);
        s.write(1, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));
        faulty.full(true);
        for (int i = 0; i < 2 * HealthCheckedStore.STORE_ERRORS; i++) {
            KelpieException e = assertThrows(KelpieException.class, () -> s.write(1, 0, ByteBuffer.wrap(new byte[] {9})));
            assertEquals(Status.NO_SPACE, e.status());
        }
        assertTrue(s.full());
        assertFalse(s.disabled(1), "a full disk disabled an object");
        assertNull(failure.get(), "a full disk failed the store");
        assertArrayEquals(new byte[] {1, 2, 3}, read(s, 1, 3));

        // A repair meant to replace the copy (it is behind) found no space: it serves nothing until replaced.
        assertThrows(KelpieException.class, () -> s.install(1, 7, ByteBuffer.wrap(new byte[] {4, 5, 6})));
        assertTrue(s.disabled(1));
        assertEquals(List.of(-1), s.stat(1, false).badBlocks());
        // Also a copy that is missing (a create that ran out leaves none): it must not read as zeros.
        assertThrows(KelpieException.class, () -> s.install(2, 7, ByteBuffer.wrap(new byte[] {4})));
        assertTrue(s.disabled(2));
        assertThrows(IOException.class, () -> read(s, 2, 1));

        faulty.heal();
        s.install(1, 7, ByteBuffer.wrap(new byte[] {4, 5, 6}));
        assertFalse(s.disabled(1));
        assertArrayEquals(new byte[] {4, 5, 6}, read(s, 1, 3));
        assertNull(failure.get());
    }

    @Test
    void aProbeThatRunsOutOfSpacePassesAndTheStoreStaysUp() throws Exception {
        Path devFull = Path.of("/dev/full"); // every write to it fails with ENOSPC
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(devFull), "no /dev/full");
        HealthCheckedStore s = new HealthCheckedStore(new MemoryObjectStore(), dir, failure::set, 0);
        for (int i = 0; i < 5; i++) {
            // The probe's file is /dev/full: it opens, and its write fails as on a full disk.
            Files.deleteIfExists(dir.resolve(HealthCheckedStore.PROBE));
            Files.createSymbolicLink(dir.resolve(HealthCheckedStore.PROBE), devFull);
            s.probe();
            assertTrue(s.full(), "probe " + i + " did not see the full disk");
        }
        assertNull(failure.get(), "a full disk failed the store");
        s.write(1, 0, ByteBuffer.wrap(new byte[] {1}));
        assertArrayEquals(new byte[] {1}, read(s, 1, 1));
        Files.deleteIfExists(dir.resolve(HealthCheckedStore.PROBE));
        s.probe();
        assertFalse(s.full(), "space again once a probe passes");
        assertNull(failure.get());
        s.close();
    }

    @Test
    void aHealthyDirectoryNeverFails() throws Exception {
        HealthCheckedStore s = new HealthCheckedStore(new MemoryObjectStore(), dir, failure::set, 0);
        for (int i = 0; i < 5; i++) {
            s.probe();
        }
        assertNull(failure.get());
        assertFalse(Files.exists(dir.resolve(HealthCheckedStore.PROBE)));
        s.close();
    }
}
