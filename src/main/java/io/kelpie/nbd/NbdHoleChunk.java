package io.kelpie.nbd;

/** An NBD_REPLY_TYPE_OFFSET_HOLE chunk: {@code length} bytes at {@code offset} read as zeros. */
public record NbdHoleChunk(long cookie, boolean done, long offset, int length) implements NbdReply {
}
