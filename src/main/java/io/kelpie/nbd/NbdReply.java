package io.kelpie.nbd;

/**
 * A transmission-phase reply message for {@link NbdReplyEncoder}: a simple reply or one structured
 * chunk. Each names the request it answers by its cookie.
 */
public interface NbdReply {
    long cookie();
}
