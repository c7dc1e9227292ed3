package io.kelpie.peer.ops;

import io.kelpie.peer.PeerRequest;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Serves one opcode against {@code S}, the narrow view of the node its group of ops needs (an
 * {@link ObjectService}, a {@link VdiService}, ...). Called on the event loop: do the work on
 * {@code executor} (or asynchronously), never block. The request stays valid until the returned
 * future completes; the payload it completes with becomes the response's. Failures: complete
 * exceptionally, ideally with a KelpieException whose status and message reach the client unchanged.
 */
@FunctionalInterface
public interface PeerOp<S> {
    CompletableFuture<ByteBuf> serve(S service, PeerRequest req, Executor executor);

    /** This op bound to the service it runs against: what the server dispatches to. */
    default Bound bind(S service) {
        return (req, executor) -> serve(service, req, executor);
    }

    /** An op with its service: all the server needs to serve an opcode. */
    @FunctionalInterface
    interface Bound {
        CompletableFuture<ByteBuf> serve(PeerRequest req, Executor executor);
    }
}
