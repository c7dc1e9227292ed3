package io.kelpie.nbd;

/** An NBD_REPLY_TYPE_ERROR chunk: errno and a message for a human; always the final chunk. */
public record NbdErrorChunk(long cookie, int error, String message) implements NbdReply {
}
