package io.kelpie.cluster;

import io.kelpie.cluster.ClusterListener.Standing;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import static io.kelpie.cluster.Wire.EVENT;
import static io.kelpie.cluster.Wire.HELLO;
import static io.kelpie.cluster.Wire.JOIN;
import static io.kelpie.cluster.Wire.LEAVE;
import static io.kelpie.cluster.Wire.REFUSE;
import static io.kelpie.cluster.Wire.SNAPSHOT;

/**
 * The driver logic shared by every transport. Membership is itself part of the ordered stream:
 * a node asks to join with an ordered JOIN, the group's leader broadcasts an ordered LEAVE for a
 * member gone from the transport's view, and every member applies JOINs, LEAVEs and events in
 * delivery order, so all members of a group see the same membership at the same point.
 *
 * <p>A joiner ignores the stream until its own JOIN is delivered and buffers what follows; the
 * group's leader sends it a snapshot taken when that JOIN was applied, and the joiner installs it
 * and replays the buffer. A node alone in the view founds a group from its own state.
 *
 * <p>Partitions. One transport view may hold several groups (a partition healed, a node that was
 * paused), so every member message carries a {@link Wire.Stamp}, and members confirm each other
 * with HELLOs on every view change. The listener judges the confirmed, reachable members
 * ({@link Standing}): only a SERVING group (a strict majority of its last epoch) announces leaves;
 * a WAITING one (restarted, assembling its last epoch) admits joiners; a MINORITY member changes
 * nothing and waits. A member that hears a member of its own lineage ahead of it, or a HELLO of a
 * group it must yield to (see {@link #yieldsTo}), leaves its group and joins again, taking the
 * winner's state: so after a heal there is one group and one history.
 */
abstract class OrderedDriver implements ClusterDriver {
    private static final Logger log = LoggerFactory.getLogger(OrderedDriver.class);

    enum State { IDLE, JOINING, MEMBER, LEFT }

    final Transport transport;
    private final ExecutorService events;
    private final Map<Long, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();

    /** The membership state machine, confined to the event thread. */
    private final Membership machine = new Membership(this);

    // Written on the event thread, read anywhere.
    volatile State state = State.IDLE;
    volatile String detachedWhy;
    volatile List<NodeInfo> memberList = List.of();
    volatile NodeInfo self;
    volatile ClusterListener listener;
    /** Completes when this node becomes a member; requests that arrive before then wait for it. */
    final CompletableFuture<Void> admitted = new CompletableFuture<>();
    volatile CompletableFuture<Void> left;

    OrderedDriver(Transport transport, String threadName) {
        this.transport = transport;
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void join(NodeInfo me, ClusterListener l, long timeoutMillis) throws InterruptedException {
        if (state != State.IDLE) {
            throw new IllegalStateException("join called twice");
        }
        this.self = me;
        this.listener = l;
        try {
            transport.start(new Transport.Handler() {
                @Override
                public void ordered(Object from, byte[] message) {
                    submit(() -> machine.onOrdered(from, message));
                }

                @Override
                public void unicast(Object from, byte[] message) {
                    submit(() -> machine.onUnicast(from, message));
                }

                @Override
                public void view(List<Object> v) {
                    submit(() -> machine.onView(v));
                }
            });
        } catch (Exception e) {
            close();
            throw new KelpieException(Status.IO_ERROR, "cannot start cluster membership: " + KelpieException.messageOf(e), e);
        }
        submit(machine::start);
        submit(machine::scheduleTick);
        try {
            admitted.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            close();
            throw new KelpieException(Status.IO_ERROR, "no cluster member admitted this node within " + timeoutMillis + " ms");
        } catch (ExecutionException e) {
            close();
            Throwable c = e.getCause();
            throw c instanceof KelpieException ke ? ke : new KelpieException(Status.IO_ERROR, KelpieException.messageOf(c), c);
        }
    }

    @Override
    public CompletableFuture<Object> broadcast(byte[] payload) {
        if (!admitted.isDone()) {
            // The peer port opens before the node is admitted: an admin request arriving in
            // between waits for admission (or fails with the reason the join failed).
            return admitted.thenCompose(v -> broadcast(payload));
        }
        if (state == State.JOINING) {
            return CompletableFuture.failedFuture(new KelpieException(Status.NO_QUORUM,
                    "this node is rejoining the cluster (" + detachedWhy + ")"));
        }
        if (state != State.MEMBER) {
            return CompletableFuture.failedFuture(new KelpieException(Status.SHUTDOWN, "this node is not a cluster member"));
        }
        long n = seq.incrementAndGet();
        CompletableFuture<Object> f = new CompletableFuture<>();
        pending.put(n, f);
        // Stamped on the event thread, where the group lives; sent from there too, in order.
        submit(() -> {
            if (state != State.MEMBER) {
                complete(n, null, new KelpieException(Status.NO_QUORUM, "this node left its group before sending"));
                return;
            }
            Wire.Stamp stamp = machine.stamp();
            try {
                transport.multicast(Wire.encode(out -> {
                    out.writeByte(EVENT);
                    stamp.writeTo(out);
                    out.writeLong(n);
                    Wire.writeBytes(out, payload);
                }));
            } catch (Exception e) {
                complete(n, null, new KelpieException(Status.IO_ERROR, "cluster broadcast failed: " + KelpieException.messageOf(e), e));
            }
        });
        return f;
    }

    @Override
    public List<NodeInfo> members() {
        return memberList;
    }

    @Override
    public NodeInfo self() {
        return self;
    }

    @Override
    public void leave() {
        if (state != State.MEMBER) {
            return;
        }
        CompletableFuture<Void> gone = new CompletableFuture<>();
        left = gone;
        submit(machine::leave);
        try {
            gone.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("graceful leave was not confirmed; the others will notice the departure by timeout");
        }
    }

    @Override
    public void close() {
        leave();
        state = State.LEFT;
        transport.close();
        events.shutdown();
        try {
            events.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failPending(Status.SHUTDOWN, "this node left the cluster");
    }

    /** Stops at once, as a crash would: no leave message, the others find out from the transport. */
    void crash() {
        state = State.LEFT;
        transport.kill();
        events.shutdownNow();
        failPending(Status.SHUTDOWN, "this node crashed");
    }

    void complete(long n, Object result, Throwable error) {
        CompletableFuture<Object> f = pending.remove(n);
        if (f == null) {
            return;
        }
        if (error != null) {
            f.completeExceptionally(error);
        } else {
            f.complete(result);
        }
    }

    void failPending(Status status, String why) {
        admitted.completeExceptionally(new KelpieException(Status.SHUTDOWN, why));
        for (Iterator<CompletableFuture<Object>> it = pending.values().iterator(); it.hasNext(); ) {
            it.next().completeExceptionally(new KelpieException(status, why));
            it.remove();
        }
    }

    // ---- plumbing ----

    interface Task {
        void run() throws Exception;
    }

    void submit(Task task) {
        try {
            events.execute(() -> {
                try {
                    task.run();
                } catch (Exception e) {
                    log.error("cluster event handling failed: {}", KelpieException.messageOf(e), e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // Closed: late deliveries are dropped.
        }
    }

    void multicast(Wire.Body body) {
        try {
            transport.multicast(Wire.encode(body));
        } catch (Exception e) {
            log.warn("cluster multicast failed: {}", KelpieException.messageOf(e));
        }
    }

    void unicast(Object to, Wire.Body body) {
        try {
            transport.unicast(to, Wire.encode(body));
        } catch (Exception e) {
            log.warn("cluster unicast to {} failed: {}", to, KelpieException.messageOf(e));
        }
    }
}
