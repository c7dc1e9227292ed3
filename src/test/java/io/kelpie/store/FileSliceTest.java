package io.kelpie.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;

import static io.kelpie.store.ObjectStore.BLOCK_SIZE;
import static io.kelpie.store.ObjectStoreContract.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FileObjectStore#readSlice}: verified ranges of the file, or null where only a copy will do. */
class FileSliceTest {
    private static final int B = BLOCK_SIZE;
    @TempDir
    Path dir;
    private FileObjectStore store;

    @AfterEach
    void close() throws Exception {
        if (store != null) {
            store.close();
        }
    }

    private static ByteBuffer bytesOf(FileSlice s) throws Exception {
        ByteBuffer got = ByteBuffer.allocate(s.length());
        FileIo.readFully(s.channel(), s.position(), got);
        return got.flip();
    }

    @Test
    void aSliceIsTheRangeOfTheObjectsFile() throws Exception {
        store = new FileObjectStore(dir, 4);
        byte[] a = random(1 << 20, 3);
        store.write(5, 0, ByteBuffer.wrap(a));
        try (FileSlice s = store.readSlice(5, 64 * B, 160 * B)) {
            assertEquals(64L * B, s.position());
            assertEquals(160 * B, s.length());
            assertEquals(ByteBuffer.wrap(a, 64 * B, 160 * B), bytesOf(s));
        }
    }

    @Test
    void nullWhereTheRangeCannotComeFromTheFile() throws Exception {
        store = new FileObjectStore(dir, 4);
        store.write(5, 0, ByteBuffer.wrap(random(8 * B, 4)));
        assertNull(store.readSlice(6, 0, 4 * B), "absent object: zeros");
        assertNull(store.readSlice(5, 100, 4 * B), "not on a block boundary");
        assertNull(store.readSlice(5, 0, 4 * B + 1), "not whole blocks");
        assertNull(store.readSlice(5, 4 * B, 8 * B), "past the end of the file: a hole");
        assertNull(store.readSlice(5, 0, 0), "nothing");
    }

    @Test
    void aBadBlockFailsTheSliceAsItFailsARead() throws Exception {
        store = new FileObjectStore(dir, 4);
        store.write(9, 0, ByteBuffer.wrap(random(64 * B, 5)));
        FaultyStore.corrupt(store, 9, 37L * B + 11);
        assertEquals(37, assertThrows(ChecksumException.class, () -> store.readSlice(9, 16 * B, 32 * B)).block());
        try (FileSlice s = store.readSlice(9, 0, 32 * B)) {
            assertEquals(32 * B, s.length(), "the blocks before it still verify");
        }
    }

    @Test
    void theFileStaysOpenUntilTheSliceIsClosedWhateverTheCacheEvicts() throws Exception {
        store = new FileObjectStore(dir, 2); // two open files: the next objects evict the first
        byte[] a = random(16 * B, 6);
        store.write(1, 0, ByteBuffer.wrap(a));
        FileSlice s = store.readSlice(1, 0, 16 * B);
        for (long oid = 2; oid < 10; oid++) {
            store.write(oid, 0, ByteBuffer.wrap(random(B, oid)));
        }
        assertTrue(s.channel().isOpen(), "evicted from the cache, still held by the slice");
        assertEquals(ByteBuffer.wrap(a), bytesOf(s));
        s.close();
        s.close(); // once
        assertTrue(!s.channel().isOpen(), "closed with the last reference");
    }
}
