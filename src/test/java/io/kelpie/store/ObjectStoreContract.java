package io.kelpie.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Behaviour every ObjectStore must have; each implementation runs it. */
abstract class ObjectStoreContract {
    protected ObjectStore store;

    protected abstract ObjectStore newStore() throws Exception;

    @BeforeEach
    void open() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() throws Exception {
        store.close();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    byte[] read(long oid, long offset, int n) throws Exception {
        ByteBuffer dst = ByteBuffer.allocate(n);
        store.read(oid, offset, dst);
        assertEquals(n, dst.position());
        return dst.array();
    }

    @Test
    void absentObjectReadsZerosAndDoesNotExist() throws Exception {
        ByteBuffer dst = ByteBuffer.allocate(4096);
        assertFalse(store.read(7, 100, dst));
        assertArrayEquals(new byte[4096], dst.array());
        assertFalse(store.exists(7));
    }

    @Test
    void writeThenReadBackWithZeroFilledGapsAndTail() throws Exception {
        byte[] data = random(10_000, 1);
        store.write(1, 5000, ByteBuffer.wrap(data));
        assertTrue(store.exists(1));
        assertArrayEquals(new byte[5000], read(1, 0, 5000));
        assertArrayEquals(data, read(1, 5000, data.length));
        assertArrayEquals(new byte[3000], read(1, 15_000, 3000), "bytes past the end read as zeros");
    }

    @Test
    void overwriteOnlyTouchesItsRange() throws Exception {
        byte[] a = random(8192, 2);
        store.write(2, 0, ByteBuffer.wrap(a));
        byte[] b = random(100, 3);
        store.write(2, 1000, ByteBuffer.wrap(b));
        byte[] expect = a.clone();
        System.arraycopy(b, 0, expect, 1000, 100);
        assertArrayEquals(expect, read(2, 0, 8192));
    }

    @Test
    void zeroClearsRange() throws Exception {
        store.write(3, 0, ByteBuffer.wrap(random(4096, 4)));
        store.zero(3, 1024, 2048);
        byte[] got = read(3, 0, 4096);
        for (int i = 1024; i < 3072; i++) {
            assertEquals(0, got[i]);
        }
        store.zero(99, 0, 10); // absent: no-op, no object created
        assertFalse(store.exists(99));
    }

    @Test
    void removeListAndStats() throws Exception {
        store.write(10, 0, ByteBuffer.wrap(random(100, 5)));
        store.write(0x8000_0001_0000_0000L, 0, ByteBuffer.wrap(random(100, 6)));
        assertEquals(2, store.list().size());
        assertTrue(store.list().contains(0x8000_0001_0000_0000L));
        assertEquals(2, store.stats().objects());
        assertTrue(store.remove(10));
        assertFalse(store.remove(10));
        assertEquals(1, store.list().size());
        store.flush();
    }
}
