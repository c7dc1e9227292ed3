package io.kelpie.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    static final int B = ObjectStore.BLOCK_SIZE;

    @Test
    void versionCountsEveryWriteAndZero() throws Exception {
        assertEquals(0, store.version(20));
        store.write(20, 0, ByteBuffer.wrap(random(100, 1)));
        assertEquals(1, store.version(20));
        store.write(20, 3 * B + 5, ByteBuffer.wrap(random(2 * B, 2)));
        store.zero(20, 0, 10);
        assertEquals(3, store.version(20));
        store.zero(21, 0, 10); // absent: nothing to count
        assertEquals(0, store.version(21));
        assertEquals(new ObjectStore.ObjectMeta(true, 3, store.stat(20, false).digest(), List.of()), store.stat(20, true));
    }

    @Test
    void createSetsTheBaseAndReplacesOldContent() throws Exception {
        store.write(22, 0, ByteBuffer.wrap(random(3 * B, 3)));
        long base = 7L << 32;
        store.create(22, base);
        assertTrue(store.exists(22));
        assertEquals(base, store.version(22));
        assertArrayEquals(new byte[3 * B], read(22, 0, 3 * B), "created empty");
        store.write(23, 0, ByteBuffer.wrap(new byte[2 * B]));
        assertEquals(store.stat(23, false).digest(), store.stat(22, false).digest(), "both all zeros");
        store.write(22, B, ByteBuffer.wrap(random(10, 4)));
        assertEquals(base + 1, store.version(22));
        assertEquals(List.of(22L, 23L), store.list().stream().sorted().toList(), "objects only");
    }

    @Test
    void installReplacesContentAndVersion() throws Exception {
        store.write(24, 0, ByteBuffer.wrap(random(8 * B, 5)));
        byte[] content = new byte[5 * B + 123];
        System.arraycopy(random(B, 6), 0, content, B, B); // block 0 zeros, block 1 data, ...
        System.arraycopy(random(123, 7), 0, content, 5 * B, 123);
        store.install(24, 42, ByteBuffer.wrap(content));
        assertEquals(42, store.version(24));
        assertArrayEquals(content, read(24, 0, content.length));
        assertArrayEquals(new byte[3 * B], read(24, content.length, 3 * B), "old bytes past the content are gone");
        assertTrue(store.stat(24, true).verified());
        store.install(25, 9, ByteBuffer.wrap(content));
        assertEquals(store.stat(24, false).digest(), store.stat(25, false).digest());
        assertEquals(List.of(24L, 25L), store.list().stream().sorted().toList());
    }

    @Test
    void equalContentWrittenDifferentlyHasEqualDigest() throws Exception {
        byte[] content = random(6 * B, 8);
        System.arraycopy(new byte[B], 0, content, 2 * B, B);
        store.write(26, 0, ByteBuffer.wrap(content)); // one write
        for (int at = 0; at < content.length; at += 1000) { // unaligned pieces, after junk and a zero
            store.write(27, at, ByteBuffer.wrap(random(1000, at)));
        }
        store.write(27, 8 * B, ByteBuffer.wrap(random(B, 9)));
        store.zero(27, 6 * B, 3 * B); // the tail back to zeros
        for (int at = 0; at < content.length; at += 1000) {
            store.write(27, at, ByteBuffer.wrap(content, at, Math.min(1000, content.length - at)));
        }
        assertArrayEquals(content, read(27, 0, content.length));
        ObjectStore.ObjectMeta a = store.stat(26, true);
        ObjectStore.ObjectMeta b = store.stat(27, true);
        assertTrue(a.verified() && b.verified(), a + " " + b);
        assertNotEquals(a.version(), b.version());
        assertEquals(a.digest(), b.digest());
        store.write(27, 3 * B + 17, ByteBuffer.wrap(new byte[] {(byte) (content[3 * B + 17] ^ 1)}));
        assertNotEquals(a.digest(), store.stat(27, false).digest(), "one byte differs");
    }

    @Test
    void rotFailsExactlyItsBlockUntilChecksumsAreReset() throws Exception {
        byte[] content = random(8 * B, 10);
        store.write(28, 0, ByteBuffer.wrap(content));
        store.flush();
        FaultyStore.corrupt(store, 28, 5 * B + 100);
        ChecksumException e = assertThrows(ChecksumException.class, () -> read(28, 5 * B, B));
        assertEquals(5, e.block());
        assertEquals(28, e.oid());
        assertThrows(ChecksumException.class, () -> read(28, 5 * B + 4000, 200), "unaligned, touching block 5");
        assertThrows(ChecksumException.class, () -> read(28, 0, 8 * B), "a read spanning it");
        assertFalse(store.tryReadCached(28, 5 * B, ByteBuffer.allocate(B)), "never served from memory either");
        assertArrayEquals(java.util.Arrays.copyOfRange(content, 0, 5 * B), read(28, 0, 5 * B), "blocks before it");
        assertArrayEquals(java.util.Arrays.copyOfRange(content, 6 * B, 8 * B), read(28, 6 * B, 2 * B), "after it");
        assertArrayEquals(java.util.Arrays.copyOfRange(content, 6 * B + 1, 6 * B + 301), read(28, 6 * B + 1, 300));
        ObjectStore.ObjectMeta m = store.stat(28, true);
        assertEquals(List.of(5), m.badBlocks());
        assertEquals(1, m.version());
        assertEquals(List.of(), store.stat(28, false).badBlocks(), "unverified stat does not read");

        store.resetChecksums(28);
        assertTrue(store.stat(28, true).verified());
        assertEquals(1, store.version(28), "a reset keeps the version");
        byte[] expect = content.clone();
        expect[5 * B + 100] ^= (byte) 0xff;
        assertArrayEquals(expect, read(28, 0, 8 * B), "what was there is accepted");
    }

    @Test
    void aRewriteOfARottenBlockHealsIt() throws Exception {
        store.write(29, 0, ByteBuffer.wrap(random(2 * B, 11)));
        FaultyStore.corrupt(store, 29, B + 1);
        byte[] fresh = random(B, 12);
        store.write(29, B, ByteBuffer.wrap(fresh));
        assertArrayEquals(fresh, read(29, B, B));
        assertTrue(store.stat(29, true).verified());
    }

    @Test
    void removeDropsContentVersionAndChecksums() throws Exception {
        store.write(30, 0, ByteBuffer.wrap(random(2 * B, 13)));
        FaultyStore.corrupt(store, 30, 10);
        assertTrue(store.remove(30));
        assertEquals(ObjectStore.ObjectMeta.ABSENT, store.stat(30, true));
        assertEquals(0, store.version(30));
        store.write(30, B, ByteBuffer.wrap(random(10, 14)));
        assertEquals(1, store.version(30), "a new object starts over");
        assertArrayEquals(new byte[B], read(30, 0, B));
        assertTrue(store.stat(30, true).verified());
    }

    @Test
    void aWriteInPiecesIsOneWrite() throws Exception {
        byte[] content = random(10 * B + 300, 15);
        int[] cuts = {0, 1, 4095, 4096, 9000, 9000, 20_000, content.length}; // an empty piece too
        ByteBuffer[] pieces = new ByteBuffer[cuts.length - 1];
        for (int i = 0; i < pieces.length; i++) {
            pieces[i] = ByteBuffer.allocateDirect(cuts[i + 1] - cuts[i]).put(content, cuts[i], cuts[i + 1] - cuts[i]).flip();
        }
        store.write(31, 100, pieces);
        store.write(32, 100, ByteBuffer.wrap(content));
        assertEquals(1, store.version(31), "one version, as for the replica that got it whole");
        assertArrayEquals(content, read(31, 100, content.length));
        assertArrayEquals(new byte[100], read(31, 0, 100));
        ObjectStore.ObjectMeta m = store.stat(31, true);
        assertTrue(m.verified(), m.toString());
        assertEquals(store.stat(32, false).digest(), m.digest());
    }

    @Test
    void aPackedCopyInstallsAsTheWholeObjectWithTheSourcesEntries() throws Exception {
        // blocks: data, hole, hole, data (short write), hole; then the table says what is zero
        byte[] a = random(4096, 41);
        byte[] b = random(1000, 42);
        store.write(40, 0, ByteBuffer.wrap(a));
        store.write(40, 3 * 4096, ByteBuffer.wrap(b));
        int length = 5 * 4096;
        int[] entries = new int[5];
        ByteBuffer whole = ByteBuffer.allocate(length);
        assertTrue(store.readWithEntries(40, whole, entries));
        assertEquals(0, entries[1], "a hole's entry is 0");
        assertEquals(0, entries[4]);
        assertTrue(entries[0] != 0 && entries[3] != 0);
        ByteBuffer packed = ByteBuffer.allocate(2 * 4096);
        packed.put(whole.array(), 0, 4096).put(whole.array(), 3 * 4096, 4096).flip();

        store.installPacked(41, 9, length, entries, packed);
        assertEquals(9, store.version(41));
        assertArrayEquals(whole.array(), read(41, 0, length), "holes read back as zeros, blocks as sent");
        ObjectStore.ObjectMeta m = store.stat(41, true);
        assertTrue(m.verified(), "the sender's entries match the installed bytes: " + m);
        assertEquals(store.stat(40, false).digest(), m.digest());

        int[] lying = entries.clone();
        lying[1] = 12345; // says block 1 has data, which the packed bytes do not carry
        assertThrows(IllegalArgumentException.class,
                () -> store.installPacked(42, 1, length, lying, packed.duplicate()));
        assertFalse(store.exists(42), "a packed copy that does not add up installs nothing");
    }
}
