package io.kelpie.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
}
