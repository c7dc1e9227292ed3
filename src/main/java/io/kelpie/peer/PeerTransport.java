package io.kelpie.peer;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Sends peer requests to nodes by address: the narrow view of the connection pool that gateway,
 * recovery and check need. {@code gateway.PeerPool} is the real one; tests put a faulty decorator
 * in front of a fake (delays, drops, partitions).
 *
 * <p>The request is consumed. A response with a non-OK status completes the future normally (the
 * receiver releases it); a request that got no answer (refused, lost connection, timeout) fails it
 * with a KelpieException of status IO_ERROR.
 */
public interface PeerTransport {
    /** For requests whose callers set no deadline of their own: bulk transfers, admin calls. */
    Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /** Sends {@code req} to {@code address}, failing it after {@code timeout}. */
    CompletableFuture<PeerResponse> send(String address, PeerRequest req, Duration timeout);

    /** Sends with {@link #DEFAULT_TIMEOUT}. */
    default CompletableFuture<PeerResponse> send(String address, PeerRequest req) {
        return send(address, req, DEFAULT_TIMEOUT);
    }
}
