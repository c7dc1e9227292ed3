package io.kelpie.gateway;

import io.kelpie.peer.PeerTransport;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.RetryLoop.Unreachable;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Requests to replicas as the gateway sees their outcome: a response, an error status, or Unreachable. */
final class PeerCalls {
    private static final long MIN_REQUEST_MILLIS = 100;

    private final PeerTransport peers;

    PeerCalls(PeerTransport peers) {
        this.peers = peers;
    }

    PeerTransport transport() {
        return peers;
    }

    /**
     * A response with a non-OK status becomes a failed future carrying that status; a request that
     * got no answer (connection refused or lost, timeout) or a node shutting down fails with {@link Unreachable}.
     */
    CompletableFuture<PeerResponse> send(NodeInfo n, PeerRequest req, Duration timeout) {
        return peers.send(n.address(), req, timeout).handle((resp, err) -> {
            if (err != null) {
                throw new Unreachable("node " + n.address() + " is unreachable: " + KelpieException.messageOf(err));
            }
            if (!resp.ok()) {
                Status st = resp.status();
                String msg = "node " + n.address() + ": " + resp.errorMessage();
                resp.release();
                throw st == Status.SHUTDOWN ? new Unreachable(msg) : new KelpieException(st, msg);
            }
            return resp;
        });
    }

    /** What is left of a request's budget, for the timeout of one peer request (never below 100 ms). */
    static Duration requestTimeout(long deadline) {
        return Duration.ofMillis(Math.max(MIN_REQUEST_MILLIS, RetryLoop.leftMillis(deadline)));
    }
}
