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
 */
final class Checksums {
    static final int BLOCK = ObjectStore.BLOCK_SIZE;
    static final int BLOCK_SHIFT = 12;
    private static final ByteBuffer ZERO_BLOCK = ByteBuffer.allocateDirect(BLOCK).asReadOnlyBuffer();
    /** The crc32c of a block of zeros: a block with this crc is checked for being all zeros. */
    static final int ZERO_BLOCK_CRC = crc(ZERO_BLOCK.duplicate(), 0);

    static {
        if (1 << BLOCK_SHIFT != BLOCK) {
            throw new AssertionError("BLOCK_SHIFT does not match BLOCK_SIZE");
        }
    }

    private Checksums() {
    }

    /** crc32c of {@code b}'s remaining bytes followed by {@code pad} zeros; leaves b's position alone. */
    static int crc(ByteBuffer b, int pad) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate());
        while (pad > 0) {
            ByteBuffer z = ZERO_BLOCK.duplicate();
            z.limit(Math.min(pad, BLOCK));
            pad -= z.remaining();
            c.update(z);
        }
        return (int) c.getValue();
    }

    /** The entry of one block whose first bytes are {@code b}'s remaining ones (at most a block; the rest zeros). */
    static int entry(ByteBuffer b) {
        int c = crc(b, BLOCK - b.remaining());
        return c == ZERO_BLOCK_CRC && allZero(b) ? 0 : c;
    }

    /** Whether a block's bytes (as for {@link #entry}) match its table entry. */
    static boolean matches(ByteBuffer b, int entry) {
        int c = crc(b, BLOCK - b.remaining());
        return c == entry || entry == 0 && c == ZERO_BLOCK_CRC && allZero(b);
    }

    static boolean allZero(ByteBuffer b) {
        int p = b.position();
        int end = b.limit();
        for (; p + 8 <= end; p += 8) {
            if (b.getLong(p) != 0) {
                return false;
            }
        }
        for (; p < end; p++) {
            if (b.get(p) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Entries of every block of {@code data}, an object's content from offset 0. */
    static int[] entries(ByteBuffer data) {
        int n = blocks(data.remaining());
        int[] e = new int[n];
        for (int i = 0; i < n; i++) {
            e[i] = entry(blockOf(data, i));
        }
        return e;
    }

    /** Block {@code i} of {@code data} (shorter at its end), as a view. */
    static ByteBuffer blockOf(ByteBuffer data, int i) {
        int from = data.position() + i * BLOCK;
        return data.duplicate().position(from).limit(Math.min(data.limit(), from + BLOCK)).slice();
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
