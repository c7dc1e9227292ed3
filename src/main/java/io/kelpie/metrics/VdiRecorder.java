package io.kelpie.metrics;

/**
 * What one NBD export records per request, on the connection's event loop: primitives only, so
 * recording allocates nothing (the meters of a command are resolved on its first request and
 * kept).
 */
public interface VdiRecorder {
    /** Records nothing: the node runs without {@code --metrics}. */
    VdiRecorder OFF = (command, bytes, nanos, ok) -> { };

    /**
     * @param command the request's NBD_CMD_* type
     * @param bytes   the bytes it covered (read, written, zeroed, trimmed); counted only when ok
     * @param nanos   from its arrival to its reply being queued
     * @param ok      false when it was answered with an error
     */
    void request(int command, long bytes, long nanos, boolean ok);
}
