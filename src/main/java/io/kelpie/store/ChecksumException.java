package io.kelpie.store;

import java.io.IOException;

/** A block of a stored object whose bytes do not match its checksum. */
public final class ChecksumException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long oid;
    private final int block;

    public ChecksumException(long oid, int block) {
        super(String.format("checksum mismatch in object %016x, block %d (bytes %d-%d)", oid, block,
                (long) block * ObjectStore.BLOCK_SIZE, (long) (block + 1) * ObjectStore.BLOCK_SIZE - 1));
        this.oid = oid;
        this.block = block;
    }

    public long oid() {
        return oid;
    }

    public int block() {
        return block;
    }
}
