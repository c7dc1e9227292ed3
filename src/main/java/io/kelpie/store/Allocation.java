package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Which changes of an object file may need new disk blocks, by its block table alone (no system
 * call): a block with a non-zero entry holds data, so it is allocated and an overwrite takes no
 * space; an entry of 0 is a hole, a block never written, past the end, or one holding zeros, and
 * counts as new. So the space reserve looks only at writes that may allocate, and a zeroing
 * (trim, write-zeroes) writes only the blocks that hold data: freeing space never needs space.
 * Copy-on-write file systems (btrfs, reflinked xfs) allocate on overwrites too; this does not
 * count those.
 */
final class Allocation {
    private static final int BLOCK = ObjectStore.BLOCK_SIZE;

    private Allocation() {
    }

    /** The bytes (whole blocks) a write of {@code srcs} from {@code offset} may allocate; 0: none. Allocation-free. */
    static long mayAllocate(BlockTable t, long offset, ByteBuffer[] srcs) {
        long end = offset;
        for (ByteBuffer b : srcs) {
            end += b.remaining();
        }
        long bytes = 0;
        for (long b = offset / BLOCK, last = (end - 1) / BLOCK; end > offset && b <= last; b++) {
            if (t.entry((int) b) == 0) {
                bytes += BLOCK;
            }
        }
        return bytes;
    }

    /**
     * Zeroes {@code [offset, offset + length)} of the object (cut at the file's end: past it reads
     * as zeros already), writing only blocks that do not read as zeros: a block whose entry is 0 is
     * read first (a hole costs no I/O), since a crash can leave data under an entry of 0 (a torn
     * block), which a trim must still clear. Sets the entries; under the object's lock.
     */
    static void zero(ChannelCache.Handle h, long offset, long length) throws IOException {
        long end = Math.min(h.channel().size(), offset + length);
        try {
            ByteBuffer block = null;
            for (long b = offset / BLOCK, last = (end - 1) / BLOCK; offset < end && b <= last; b++) {
                long from = Math.max(offset, b * BLOCK);
                long to = Math.min(end, (b + 1) * BLOCK);
                if (h.table().entry((int) b) == 0) {
                    block = block == null ? ByteBuffer.allocate(BLOCK) : block.clear();
                    FileIo.readFully(h.channel(), b * BLOCK, block);
                    if (Checksums.entry(block.flip()) == 0) {
                        continue; // zeros already: nothing to write, nothing to allocate
                    }
                }
                FileIo.writeZeros(h.channel(), from, to);
            }
            if (offset < end) {
                Verify.zeroed(h, offset, end);
            }
            BlockTable t = h.table();
            t.setVersion(t.version() + 1);
        } catch (IOException e) {
            NoSpace.settle(h, offset, end); // zeros may have gone in part-way
            throw FileIo.translate(e);
        }
    }
}
