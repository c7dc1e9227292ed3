package io.kelpie.store;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The per-block checksum rules shared by every store, so that equal content gives equal entries
 * (and equal digests) whichever store holds it and whatever writes made it.
 *
 * <p>A block's entry is the crc32c of its {@link ObjectStore#BLOCK_SIZE} bytes (bytes past the end
 * of the object count as zeros), except that an all-zero block has entry 0: a table of a sparse
 * object is then mostly zeros, costs nothing on disk, and a zeroed block equals one never written.
 * "All zeros" is decided by the crc too (it equals that of a zero block): the same 2^-32 assurance
 * as every other block's check, without a second pass over the bytes.
 *
 * <p>Blocks are addressed by index into a buffer whose position and limit are left as they were,
 * so the hot paths (every read and write) make no buffer views.
 */
final class Checksums {
    static final int BLOCK = ObjectStore.BLOCK_SIZE;
    static final int BLOCK_SHIFT = 12;
    private static final byte[] ZEROS = new byte[BLOCK];
    /** The crc32c of a block of zeros. */
    static final int ZERO_BLOCK_CRC = crc(ByteBuffer.wrap(ZEROS), 0, 0);

    static {
        if (1 << BLOCK_SHIFT != BLOCK) {
            throw new AssertionError("BLOCK_SHIFT does not match BLOCK_SIZE");
        }
    }

    private Checksums() {
    }

    /** crc32c of {@code b[from, from + len)} followed by zeros to a whole block; b's position and limit stay. */
    static int crc(ByteBuffer b, int from, int len) {
        CRC32C c = new CRC32C();
        int pos = b.position();
        int lim = b.limit();
        b.limit(b.capacity()).position(from).limit(from + len);
        c.update(b);
        b.limit(lim).position(pos);
        if (len < BLOCK) {
            c.update(ZEROS, 0, BLOCK - len);
        }
        return (int) c.getValue();
    }

    /** The entry of the block whose first bytes are {@code b[from, from + len)} (len at most a block). */
    static int entry(ByteBuffer b, int from, int len) {
        int c = crc(b, from, len);
        return c == ZERO_BLOCK_CRC ? 0 : c;
    }

    /**
     * The entry of a whole block that starts at index {@code from} of {@code data[p]} and runs on
     * into the pieces after it (which hold at least the rest of it); positions and limits stay.
     */
    static int spanningEntry(ByteBuffer[] data, int p, int from) {
        CRC32C c = new CRC32C();
        int left = BLOCK;
        for (int q = p, at = from; ; at = data[++q].position()) {
            ByteBuffer b = data[q];
            int n = Math.min(left, b.limit() - at);
            int pos = b.position();
            int lim = b.limit();
            b.position(at).limit(at + n);
            c.update(b);
            b.limit(lim).position(pos);
            left -= n;
            if (left == 0) {
                break;
            }
        }
        int crc = (int) c.getValue();
        return crc == ZERO_BLOCK_CRC ? 0 : crc;
    }

    /** The entry of the block whose first bytes are {@code b}'s remaining ones. */
    static int entry(ByteBuffer b) {
        return entry(b, b.position(), b.remaining());
    }

    /** Whether a block's bytes (as for {@link #entry}) match its table entry. */
    static boolean matches(ByteBuffer b, int from, int len, int entry) {
        return entry(b, from, len) == entry;
    }

    /** Whether {@code b}'s remaining bytes (the first of a block) match its entry. */
    static boolean matches(ByteBuffer b, int entry) {
        return entry(b) == entry;
    }

    /** Block {@code i} of {@code data} (shorter at its end) matches {@code entry}. */
    static boolean blockMatches(ByteBuffer data, int i, int entry) {
        int from = data.position() + i * BLOCK;
        return matches(data, from, Math.min(BLOCK, data.limit() - from), entry);
    }

    /** Block {@code i}'s entry, of {@code data} an object's content from offset 0 (or from a block boundary). */
    static int blockEntry(ByteBuffer data, int i) {
        int from = data.position() + i * BLOCK;
        return entry(data, from, Math.min(BLOCK, data.limit() - from));
    }

    /** Entries of every block of {@code data}, an object's content from offset 0. */
    static int[] entries(ByteBuffer data) {
        int n = blocks(data.remaining());
        int[] e = new int[n];
        for (int i = 0; i < n; i++) {
            e[i] = blockEntry(data, i);
        }
        return e;
    }

    /** Bytes of the packed form of an object of {@code length} bytes with these entries (non-zero blocks only). */
    static long packedLength(int length, int[] entries) {
        long n = 0;
        for (int b = 0; b < entries.length; b++) {
            if (entries[b] != 0) {
                n += Math.min(BLOCK, length - (long) b * BLOCK);
            }
        }
        return n;
    }

    /** Checks that {@code packed} holds exactly the non-zero blocks of an object of {@code length} bytes. */
    static void checkPacked(int length, int[] entries, ByteBuffer packed) {
        if (length < 0 || entries.length != blocks(length) || packedLength(length, entries) != packed.remaining()) {
            throw new IllegalArgumentException("packed object of " + length + " bytes, " + entries.length
                    + " entries and " + packed.remaining() + " bytes of blocks does not add up");
        }
    }

    /** The whole content of a packed object (zeros for the blocks whose entry is 0). */
    static ByteBuffer unpack(int length, int[] entries, ByteBuffer packed) {
        checkPacked(length, entries, packed);
        ByteBuffer all = ByteBuffer.allocate(length);
        ByteBuffer p = packed.duplicate();
        for (int b = 0; b < entries.length; b++) {
            if (entries[b] != 0) {
                int len = (int) Math.min(BLOCK, length - (long) b * BLOCK);
                all.put(b * BLOCK, p, p.position(), len);
                p.position(p.position() + len);
            }
        }
        return all;
    }

    /** The number of blocks covering {@code bytes} bytes from offset 0. */
    static int blocks(long bytes) {
        return (int) ((bytes + BLOCK - 1) >>> BLOCK_SHIFT);
    }

    /** Any table's digest: crc32c over the big-endian entries with trailing zero entries left off. */
    interface Table {
        int entry(int block);
    }

    static int digest(Table t, int n) {
        while (n > 0 && t.entry(n - 1) == 0) {
            n--;
        }
        CRC32C c = new CRC32C();
        ByteBuffer b = ByteBuffer.allocate(4 * 256);
        for (int i = 0; i < n; i++) {
            if (!b.hasRemaining()) {
                c.update(b.flip());
                b.clear();
            }
            b.putInt(t.entry(i));
        }
        c.update(b.flip());
        return (int) c.getValue();
    }
}
