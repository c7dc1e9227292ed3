package io.kelpie.gateway;

import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * How the gateway reaches other nodes: one request to one node's peer port. {@link PeerPool} is
 * the real one; tests put a faulty decorator in front of a fake (delays, drops, partitions).
 *
 * <p>A response with a non-OK status completes the future normally; a request that got no answer
 * (refused, lost connection, timeout) fails it with a KelpieException of status IO_ERROR.
 */
public interface PeerTransport {

    /** Sends {@code req} (ownership passes here) to {@code address}, failing it after {@code timeout}. */
    CompletableFuture<PeerResponse> send(String address, PeerRequest req, Duration timeout);
}
