package io.kelpie.cli;

import io.kelpie.peer.PeerResponse;
import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * A window of requests in flight, consumed in the order sent, so that {@code vdi read/write} stream
 * at network speed with bounded memory. {@link #close()} releases whatever was not consumed.
 */
final class Pipeline implements AutoCloseable {
    static final int CHUNK = 4 << 20;
    static final int WINDOW = 8;

    private final ArrayDeque<CompletableFuture<PeerResponse>> queue = new ArrayDeque<>();

    boolean full() {
        return queue.size() >= WINDOW;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    void add(CompletableFuture<PeerResponse> f) {
        queue.add(f);
    }

    /** The payload of the oldest request (the caller releases it), or its failure. */
    ByteBuf next() {
        return AdminClient.await(queue.poll());
    }

    @Override
    public void close() {
        for (CompletableFuture<PeerResponse> f : queue) {
            f.whenComplete((r, err) -> {
                if (r != null) {
                    r.release();
                }
            });
        }
        queue.clear();
    }
}
