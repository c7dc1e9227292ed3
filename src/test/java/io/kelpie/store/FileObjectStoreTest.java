package io.kelpie.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
