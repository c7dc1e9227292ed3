package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * {@link FileObjectStore#readSlice}: the range is read in pieces into a small buffer of the I/O
 * thread, each verified as a read would be, and then handed out as a range of the file. The bytes
 * then cross memory twice (into the buffer, which stays in the CPU's cache, and from the page cache
 * into the socket) where a copied read crosses it three times.
 */
final class Slices {
    private static final int BLOCK = ObjectStore.BLOCK_SIZE;
    /** Small enough to stay in a core's cache between the pread and the checksum. */
    static final int PIECE = 64 << 10;
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(PIECE));

    private Slices() {
    }

    static FileSlice read(FileObjectStore store, long oid, long offset, int length) throws IOException {
        if (length <= 0 || offset < 0 || ((offset | length) & (BLOCK - 1)) != 0) {
            return null; // verification needs whole blocks: such a read is copied
        }
        ChannelCache.Handle h = store.open(oid, false);
        if (h == null) {
            return null;
        }
        boolean handedOut = false;
        try {
            FileChannel ch = h.channel();
            long end = offset + length;
            if (end > ch.size()) {
                return null; // part of it is a hole past the end of the file
            }
            ByteBuffer scratch = SCRATCH.get();
            for (long pos = offset; pos < end; pos += PIECE) {
                scratch.clear().limit((int) Math.min(PIECE, end - pos));
                FileIo.readFully(ch, pos, scratch);
                Verify.blocks(store, h, oid, pos, scratch.flip());
            }
            handedOut = true;
            return new FileSlice(ch, offset, length, h::release);
        } finally {
            if (!handedOut) {
                h.release();
            }
        }
    }
}
