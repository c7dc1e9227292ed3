package io.kelpie.nbd;

/**
 * An NBD_REPLY_TYPE_BLOCK_STATUS chunk for one metadata context: descriptors {@code lengths[i]}
 * (u32) with {@code flags[i]}, consecutive from the request's offset.
 */
public record NbdBlockStatusChunk(long cookie, boolean done, int contextId, int[] lengths, int[] flags)
        implements NbdReply {
    public NbdBlockStatusChunk {
        if (lengths.length != flags.length || lengths.length == 0) {
            throw new IllegalArgumentException("a block status chunk needs one or more descriptors");
        }
    }
}
