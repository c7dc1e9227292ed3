package io.kelpie.gateway;

import io.kelpie.peer.PeerTransport;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.netty.channel.EventLoopGroup;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * One pipelined {@link PeerClient} per node address, shared by every request to that node.
 * Connecting blocks, so it happens on {@code connector}, never on the caller's event loop; a
 * connection that dropped is replaced on the next request.
 *
 * <p>Connecting waits at most {@link PeerClient#CONNECT_TIMEOUT} (or the request timeout, if
 * shorter): a node on a LAN answers a SYN in microseconds, and a dead host would otherwise hold
 * every request queued behind the connect for the whole request timeout.
 */
public final class PeerPool implements PeerTransport, AutoCloseable {
    private final EventLoopGroup group;
    private final Executor connector;
    private final Duration timeout;
    private final ConcurrentHashMap<String, CompletableFuture<PeerClient>> clients = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public PeerPool(EventLoopGroup group, Executor connector, Duration timeout) {
        this.group = group;
        this.connector = connector;
        this.timeout = timeout;
    }

    /** Sends {@code req} (ownership passes here) to the node at {@code address}, with the pool's timeout. */
    @Override
    public CompletableFuture<PeerResponse> send(String address, PeerRequest req) {
        return send(address, req, timeout);
    }

    @Override
    public CompletableFuture<PeerResponse> send(String address, PeerRequest req, Duration requestTimeout) {
        return client(address).handle((c, err) -> {
            if (err != null) {
                req.release();
                return CompletableFuture.<PeerResponse>failedFuture(err);
            }
            return c.send(req, requestTimeout);
        }).thenCompose(f -> f);
    }

    private CompletableFuture<PeerClient> client(String address) {
        if (closed) {
            return CompletableFuture.failedFuture(new KelpieException(Status.SHUTDOWN, "node is shutting down"));
        }
        PeerClient[] stale = new PeerClient[1];
        CompletableFuture<PeerClient> f = clients.compute(address, (a, old) -> {
            if (old != null && (!old.isDone() || (!old.isCompletedExceptionally() && old.join().isActive()))) {
                return old;
            }
            if (old != null && old.isDone() && !old.isCompletedExceptionally()) {
                stale[0] = old.join(); // closed below: closing waits for an event loop, never under the map's lock
            }
            Duration connect = timeout.compareTo(PeerClient.CONNECT_TIMEOUT) < 0 ? timeout : PeerClient.CONNECT_TIMEOUT;
            return CompletableFuture.supplyAsync(() -> PeerClient.connect(a, group, connect, timeout), connector);
        });
        if (stale[0] != null) {
            PeerClient dead = stale[0];
            try {
                connector.execute(dead::close);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                dead.close();
            }
        }
        // A failed connect is not cached beyond this request: the next one tries afresh.
        f.whenComplete((c, e) -> {
            if (e != null) {
                clients.remove(address, f);
            }
        });
        return f;
    }

    @Override
    public void close() {
        closed = true;
        for (CompletableFuture<PeerClient> f : clients.values()) {
            f.thenAccept(PeerClient::close);
        }
        clients.clear();
    }
}
