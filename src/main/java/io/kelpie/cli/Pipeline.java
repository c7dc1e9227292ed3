package io.kelpie.cli;

import io.kelpie.peer.PeerResponse;
import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * A window of requests in flight, consumed in the order sent, so that {@code vdi read/write},
 * {@code import} and {@code export} stream at network speed with bounded memory. Each request may
 * carry the bytes of progress it stands for, counted once it is consumed. {@link #close()}
 * releases whatever was not consumed.
 */
final class Pipeline implements AutoCloseable {
    static final int CHUNK = 4 << 20;
    static final int WINDOW = 8;

    private record Entry(CompletableFuture<PeerResponse> response, long bytes) {
    }

    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private long consumedBytes;

    boolean full() {
        return queue.size() >= WINDOW;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    void add(CompletableFuture<PeerResponse> f) {
        add(f, 0);
    }

    /** A request that, once answered, stands for {@code bytes} of progress. */
    void add(CompletableFuture<PeerResponse> f, long bytes) {
        queue.add(new Entry(f, bytes));
    }

    /** The payload of the oldest request (the caller releases it), or its failure. */
    ByteBuf next() {
        Entry e = queue.poll();
        ByteBuf payload = AdminClient.await(e.response());
        consumedBytes += e.bytes();
        return payload;
    }

    /** The progress of every request consumed so far. */
    long consumedBytes() {
        return consumedBytes;
    }

    @Override
    public void close() {
        for (Entry e : queue) {
            e.response().whenComplete((r, err) -> {
                if (r != null) {
                    r.release();
                }
            });
        }
        queue.clear();
    }
}
