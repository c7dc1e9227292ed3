package io.kelpie.peer;

import java.util.concurrent.CompletableFuture;

/**
 * Sends peer requests to nodes by address: the narrow view of the connection pool that gateway,
 * recovery and check need (tests give them a faulty one). The request is consumed; the response
 * is the receiver's to release. A node that does not answer fails the future.
 */
@FunctionalInterface
public interface PeerTransport {
    CompletableFuture<PeerResponse> send(String address, PeerRequest req);
}
