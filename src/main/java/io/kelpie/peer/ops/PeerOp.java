package io.kelpie.peer.ops;

import io.kelpie.node.Node;
import io.kelpie.peer.PeerRequest;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Serves one opcode. Called on the event loop: do the work on {@code executor} (or asynchronously),
 * never block. The request stays valid until the returned future completes; the payload it
 * completes with becomes the response's. Failures: complete exceptionally, ideally with a
 * KelpieException whose status and message reach the client unchanged.
 */
@FunctionalInterface
public interface PeerOp {
    CompletableFuture<ByteBuf> serve(Node node, PeerRequest req, Executor executor);
}
