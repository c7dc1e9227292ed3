package io.kelpie.metrics;

/** What the peer server records per request it served, from whichever thread completed it. */
public interface PeerRecorder {
    PeerRecorder OFF = (opcode, ok) -> { };

    /** @param opcode the request's opcode (PeerConstants); @param ok false when it was answered with an error */
    void request(int opcode, boolean ok);
}
