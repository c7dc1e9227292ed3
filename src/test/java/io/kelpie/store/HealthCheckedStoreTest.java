package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The disk-error policy: which failures quarantine an object, and which give up the whole store. */
class HealthCheckedStoreTest extends ObjectStoreContract {
    private static final long A = 0x00aa000000000001L;
    private static final long B = 0x00aa000000000002L;

    @TempDir
    Path dir;

    private final FaultyStore faulty = new FaultyStore(new MemoryObjectStore());
    private final List<String> failures = new ArrayList<>();
    private volatile boolean probeFails;

    @Override
    protected ObjectStore newStore() {
        return new HealthCheckedStore(faulty, () -> {
            if (probeFails) {
                throw new IOException("Read-only file system");
            }
        }, failures::add);
    }

    private HealthCheckedStore health() {
        return (HealthCheckedStore) store;
    }

    private static ByteBuffer bytes(int... b) {
        byte[] a = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            a[i] = (byte) b[i];
        }
        return ByteBuffer.wrap(a);
    }

    @Test
    void aFailedWriteQuarantinesTheObjectUntilItIsReplaced() throws Exception {
        store.write(A, 0, bytes(1, 2, 3));
        store.write(B, 0, bytes(9));
        faulty.failWrites(oid -> oid == A);
        assertThrows(IOException.class, () -> store.write(A, 0, bytes(4)));
        faulty.heal();

        // The replica missed a write: its old bytes must not be served, nor may it take writes.
        assertTrue(health().isQuarantined(A));
        IOException e = assertThrows(IOException.class, () -> store.read(A, 0, ByteBuffer.allocate(3)));
        assertTrue(e.getMessage().contains("quarantined"), e.getMessage());
        assertThrows(IOException.class, () -> store.write(A, 0, bytes(5)));
        assertFalse(store.tryReadCached(A, 0, ByteBuffer.allocate(3)));
        // Metadata shows it as absent, so that check and recovery bring it back.
        assertFalse(store.exists(A));
        assertEquals(0, store.version(A));
        assertFalse(store.stat(A, true).exists());
        // Other objects are untouched and the store as a whole is fine.
        ByteBuffer other = ByteBuffer.allocate(1);
        store.read(B, 0, other);
        assertEquals(9, other.get(0));
        assertNull(health().failure());
        assertTrue(failures.isEmpty());

        // Installing a fresh copy (repair) lifts the quarantine.
        store.install(A, 7, bytes(4, 5, 6));
        assertFalse(health().isQuarantined(A));
        ByteBuffer back = ByteBuffer.allocate(3);
        assertTrue(store.read(A, 0, back));
        assertArrayEquals(new byte[] {4, 5, 6}, back.array());
    }

    @Test
    void readsAreQuarantinedOnlyAfterSeveralFailuresInARow() throws Exception {
        store.write(A, 0, bytes(1));
        faulty.failReads(oid -> oid == A);
        for (int i = 1; i < HealthCheckedStore.READ_ERRORS; i++) {
            assertThrows(IOException.class, () -> store.read(A, 0, ByteBuffer.allocate(1)));
            assertFalse(health().isQuarantined(A), "after " + i + " failed read(s)");
        }
        faulty.heal();
        store.read(A, 0, ByteBuffer.allocate(1)); // a good read resets the count
        faulty.failReads(oid -> oid == A);
        for (int i = 1; i < HealthCheckedStore.READ_ERRORS; i++) {
            assertThrows(IOException.class, () -> store.read(A, 0, ByteBuffer.allocate(1)));
        }
        assertFalse(health().isQuarantined(A));
        assertThrows(IOException.class, () -> store.read(A, 0, ByteBuffer.allocate(1)));
        assertTrue(health().isQuarantined(A));
        // Removing it (a create-and-write starts with that) lifts it too.
        faulty.heal();
        store.remove(A);
        store.write(A, 0, bytes(2));
        assertFalse(health().isQuarantined(A));
    }

    @Test
    void aFailingProbeGivesUpTheWholeStoreOnce() throws Exception {
        store.write(A, 0, bytes(1));
        probeFails = true;
        faulty.failWrites(oid -> oid == B);
        assertThrows(IOException.class, () -> store.write(B, 0, bytes(1)));
        assertEquals(1, failures.size(), "failures: " + failures);
        assertTrue(failures.get(0).contains("Read-only file system"), failures.get(0));
        // Everything now fails at once with SHUTDOWN: peers retry on the epoch without this node.
        KelpieException e = assertThrows(KelpieException.class, () -> store.read(A, 0, ByteBuffer.allocate(1)));
        assertEquals(Status.SHUTDOWN, e.status());
        assertThrows(KelpieException.class, () -> store.list());
        assertThrows(KelpieException.class, () -> store.write(B, 0, bytes(1)));
        assertEquals(1, failures.size());
    }

    @Test
    void aFailedFlushGivesUpTheStore() throws Exception {
        store.write(A, 0, bytes(1));
        faulty.failFlush(true);
        assertThrows(IOException.class, () -> store.flush());
        assertEquals(1, failures.size());
        assertEquals(Status.SHUTDOWN, assertThrows(KelpieException.class, () -> store.exists(A)).status());
    }

    @Test
    void checksumFailuresAreNotDiskErrors() throws Exception {
        ObjectStore memory = new MemoryObjectStore();
        ObjectStore rotten = (ObjectStore) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ObjectStore.class}, (proxy, m, args) -> {
                    if (m.getName().equals("read")) {
                        throw new ChecksumException((long) args[0], 0);
                    }
                    return m.invoke(memory, args);
                });
        HealthCheckedStore s = new HealthCheckedStore(rotten, () -> {
            throw new IOException("probe must not run");
        }, failures::add);
        for (int i = 0; i < 2 * HealthCheckedStore.READ_ERRORS; i++) {
            assertThrows(ChecksumException.class, () -> s.read(A, 0, ByteBuffer.allocate(1)));
        }
        assertFalse(s.isQuarantined(A));
        assertTrue(failures.isEmpty());
    }

    @Test
    void theFileProbeFailsWhenTheDirectoryIsGone() throws Exception {
        Path objects = Files.createDirectories(dir.resolve("objects"));
        HealthCheckedStore.Probe probe = HealthCheckedStore.fileProbe(objects);
        probe.run();
        try (var files = Files.list(objects)) {
            assertEquals(0, files.count(), "the probe leaves nothing behind");
        }
        Files.delete(objects);
        assertThrows(IOException.class, probe::run);
    }
}
