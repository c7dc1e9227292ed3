package io.kelpie.gateway;

import io.kelpie.peer.PeerTransport;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerAuth;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Pipelined {@link PeerClient}s per node address: one per event loop of {@code group}, used by the
 * requests made on that loop. A request from an NBD connection then leaves, and its answer comes
 * back, on the thread that serves the connection: no task handed between loops and no wakeup
 * (they were a tenth of a three-copy write's CPU). Requests from other threads share the
 * connections by thread. Connecting blocks, so it happens on {@code connector}, never on the
 * caller's event loop; a connection that dropped is replaced on the next request.
 *
 * <p>Connecting waits at most {@link PeerClient#CONNECT_TIMEOUT} (or the request timeout, if
 * shorter): a node on a LAN answers a SYN in microseconds, and a dead host would otherwise hold
 * every request queued behind the connect for the whole request timeout.
 */
public final class PeerPool implements PeerTransport, AutoCloseable {
    private final EventLoop[] loops;
    private final Executor connector;
    private final Duration timeout;
    private final PeerAuth auth;
    private final ConcurrentHashMap<String, AtomicReferenceArray<CompletableFuture<PeerClient>>> clients =
            new ConcurrentHashMap<>();
    private volatile boolean closed;

    public PeerPool(EventLoopGroup group, Executor connector, Duration timeout) {
        this(group, connector, timeout, null);
    }

    /** ... whose connections prove the cluster secret with {@code auth} (null: none) as they open. */
    public PeerPool(EventLoopGroup group, Executor connector, Duration timeout, PeerAuth auth) {
        List<EventLoop> all = new ArrayList<>();
        for (EventExecutor e : group) {
            all.add((EventLoop) e);
        }
        this.loops = all.toArray(new EventLoop[0]);
        this.connector = connector;
        this.timeout = timeout;
        this.auth = auth;
    }

    /** Sends {@code req} (ownership passes here) to the node at {@code address}, with the pool's timeout. */
    @Override
    public CompletableFuture<PeerResponse> send(String address, PeerRequest req) {
        return send(address, req, timeout);
    }

    @Override
    public CompletableFuture<PeerResponse> send(String address, PeerRequest req, Duration requestTimeout) {
        CompletableFuture<PeerClient> client = client(address);
        if (client.isDone() && !client.isCompletedExceptionally()) {
            return client.join().send(req, requestTimeout); // connected: no stage in between
        }
        return client.handle((c, err) -> {
            if (err != null) {
                req.release();
                return CompletableFuture.<PeerResponse>failedFuture(err);
            }
            return c.send(req, requestTimeout);
        }).thenCompose(f -> f);
    }

    /** The caller's event loop, or for another thread one chosen by the thread. */
    private int lane() {
        for (int i = 0; i < loops.length; i++) {
            if (loops[i].inEventLoop()) {
                return i;
            }
        }
        return (int) (Thread.currentThread().getId() % loops.length);
    }

    private static boolean usable(CompletableFuture<PeerClient> f) {
        return f != null && (!f.isDone() || (!f.isCompletedExceptionally() && f.join().isActive()));
    }

    private CompletableFuture<PeerClient> client(String address) {
        if (closed) {
            return CompletableFuture.failedFuture(new KelpieException(Status.SHUTDOWN, "node is shutting down"));
        }
        AtomicReferenceArray<CompletableFuture<PeerClient>> lanes = clients.get(address);
        if (lanes == null) {
            lanes = clients.computeIfAbsent(address, a -> new AtomicReferenceArray<>(loops.length));
        }
        int i = lane();
        CompletableFuture<PeerClient> f = lanes.get(i);
        if (usable(f)) {
            return f;
        }
        PeerClient stale = null;
        synchronized (lanes) {
            f = lanes.get(i);
            if (usable(f)) {
                return f;
            }
            if (f != null && f.isDone() && !f.isCompletedExceptionally()) {
                stale = f.join();
            }
            Duration connect = timeout.compareTo(PeerClient.CONNECT_TIMEOUT) < 0 ? timeout : PeerClient.CONNECT_TIMEOUT;
            EventLoop loop = loops[i];
            f = CompletableFuture.supplyAsync(() -> PeerClient.connect(address, loop, connect, timeout, auth), connector);
            lanes.set(i, f);
        }
        if (stale != null) {
            PeerClient dead = stale; // closing waits for an event loop: not under the lock, not on the caller
            try {
                connector.execute(dead::close);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                dead.close();
            }
        }
        // A failed connect is not cached beyond this request: the next one tries afresh.
        CompletableFuture<PeerClient> mine = f;
        AtomicReferenceArray<CompletableFuture<PeerClient>> in = lanes;
        f.whenComplete((c, e) -> {
            if (e != null) {
                in.compareAndSet(i, mine, null);
            }
        });
        return f;
    }

    @Override
    public void close() {
        closed = true;
        for (AtomicReferenceArray<CompletableFuture<PeerClient>> lanes : clients.values()) {
            for (int i = 0; i < lanes.length(); i++) {
                CompletableFuture<PeerClient> f = lanes.get(i);
                if (f != null) {
                    f.thenAccept(PeerClient::close);
                }
            }
        }
        clients.clear();
    }
}
