package io.kelpie.gateway;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * The gateway of a cluster node: each object lives on the nodes the ring of the current epoch
 * names. Writes, creates, zeroes and removes go to every replica in parallel (the local one
 * straight to the store) and succeed only when all do; reads go to the local replica if there is
 * one, else to the others in ring order until one answers.
 *
 * <p>Every peer request carries the epoch its placement came from. A peer on another epoch
 * refuses it (OLD_EPOCH / NEW_EPOCH); so does an unreachable replica, in effect, until the
 * cluster has removed it. Either way the whole operation is retried under the newer placement
 * once this node has caught up; all of them are idempotent.
 */
public final class ReplicatedGateway implements Gateway {
    private static final Logger log = LoggerFactory.getLogger(ReplicatedGateway.class);

    /** How long an operation waits for the cluster to settle (a dead node to be removed) before failing. */
    static final long SETTLE_MILLIS = 30_000;
    private static final int MAX_ATTEMPTS = 20;

    private final ClusterManager cluster;
    private final LocalGateway local;
    private final PeerPool peers;
    private final Executor executor;
    private final LongFunction<CompletableFuture<Void>> recover;

    /**
     * @param recover makes sure the local store holds an object before it is read or changed here
     *                (fetching it from an earlier epoch's holder); see io.kelpie.recovery
     */
    public ReplicatedGateway(ClusterManager cluster, LocalGateway local, PeerPool peers, Executor executor,
                             LongFunction<CompletableFuture<Void>> recover) {
        this.cluster = cluster;
        this.local = local;
        this.peers = peers;
        this.executor = executor;
        this.recover = recover;
    }

    @Override
    public CompletableFuture<ByteBuf> read(long oid, int copies, long offset, int length) {
        return withRetry("read", p -> {
            List<NodeInfo> replicas = readOrder(p.ring().replicas(oid, copies));
            if (replicas.isEmpty()) {
                return CompletableFuture.failedFuture(new KelpieException(Status.NOT_ENOUGH_ZONES,
                        "no node of the cluster holds data (epoch " + p.epoch() + ")"));
            }
            return readFrom(replicas, 0, p, oid, offset, length, null);
        });
    }

    private CompletableFuture<ByteBuf> readFrom(List<NodeInfo> replicas, int i, Placement p, long oid, long offset,
                                                int length, Throwable last) {
        if (i == replicas.size()) {
            return CompletableFuture.failedFuture(last);
        }
        NodeInfo n = replicas.get(i);
        CompletableFuture<ByteBuf> f = isLocal(n) ? recover.apply(oid).thenCompose(v -> local.read(oid, 0, offset, length))
                : send(n, PeerRequest.of(PeerConstants.READ_OBJ, 0, p.epoch(), oid, offset, length), p)
                .thenApply(PeerResponse::content);
        return f.handle((buf, err) -> {
            if (err == null) {
                return CompletableFuture.completedFuture(buf);
            }
            if (isEpochError(err)) {
                return CompletableFuture.<ByteBuf>failedFuture(err);
            }
            log.debug("read of {} from {} failed, trying the next replica: {}", Long.toHexString(oid), n,
                    KelpieException.messageOf(err));
            return readFrom(replicas, i + 1, p, oid, offset, length, err);
        }).thenCompose(Function.identity());
    }

    @Override
    public CompletableFuture<Void> write(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        return writeAll(PeerConstants.WRITE_OBJ, oid, copies, offset, data, sync);
    }

    @Override
    public CompletableFuture<Void> create(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        return writeAll(PeerConstants.CREATE_AND_WRITE_OBJ, oid, copies, offset, data, sync);
    }

    private CompletableFuture<Void> writeAll(int opcode, long oid, int copies, long offset, ByteBuf data, boolean sync) {
        int flags = sync ? PeerConstants.FLAG_SYNC : 0;
        return withRetry(opcode == PeerConstants.WRITE_OBJ ? "write" : "create", p -> fanOut(p, oid, copies, n -> isLocal(n)
                ? (opcode == PeerConstants.WRITE_OBJ
                        ? recover.apply(oid).thenCompose(v -> local.write(oid, copies, offset, data, sync))
                        : local.create(oid, copies, offset, data, sync))
                : send(n, new PeerRequest(opcode, flags, p.epoch(), 0, oid, offset, 0, data.retainedDuplicate()), p)
                        .thenAccept(PeerResponse::release)));
    }

    @Override
    public CompletableFuture<Void> zero(long oid, int copies, long offset, long length, boolean sync) {
        int flags = sync ? PeerConstants.FLAG_SYNC : 0;
        return withRetry("zero", p -> fanOut(p, oid, copies, n -> isLocal(n)
                ? recover.apply(oid).thenCompose(v -> local.zero(oid, copies, offset, length, sync))
                : send(n, PeerRequest.of(PeerConstants.ZERO_OBJ, flags, p.epoch(), oid, offset, (int) length), p)
                        .thenAccept(PeerResponse::release)));
    }

    @Override
    public CompletableFuture<Void> remove(long oid, int copies) {
        return withRetry("remove", p -> fanOut(p, oid, copies, n -> isLocal(n)
                ? local.remove(oid, copies)
                : send(n, PeerRequest.of(PeerConstants.REMOVE_OBJ, 0, p.epoch(), oid, 0, 0), p)
                        .thenAccept(PeerResponse::release)));
    }

    @Override
    public CompletableFuture<Void> flush() {
        return withRetry("flush", p -> {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (NodeInfo n : p.ring().nodes()) {
                all.add(isLocal(n) ? local.flush()
                        : send(n, PeerRequest.of(PeerConstants.FLUSH, 0, p.epoch(), 0, 0, 0), p)
                        .thenAccept(PeerResponse::release));
            }
            return allOf(all);
        });
    }

    /** Where an object lives in the current epoch: its replicas, in ring order. */
    public List<NodeInfo> replicas(long oid, int copies) {
        return cluster.ring().replicas(oid, copies);
    }

    @Override
    public void close() {
        peers.close();
    }

    // ---- helpers ----

    private CompletableFuture<Void> fanOut(Placement p, long oid, int copies,
                                           Function<NodeInfo, CompletableFuture<Void>> op) {
        List<NodeInfo> replicas = p.ring().replicas(oid, copies);
        if (replicas.size() < copies) {
            return CompletableFuture.failedFuture(new KelpieException(Status.NOT_ENOUGH_ZONES, "cannot store "
                    + copies + " copies: the cluster has only " + p.ring().zones() + " zone(s) holding data (epoch "
                    + p.epoch() + "); add nodes in other zones or use fewer copies"));
        }
        List<CompletableFuture<Void>> all = new ArrayList<>(replicas.size());
        for (NodeInfo n : replicas) {
            CompletableFuture<Void> f;
            try {
                f = op.apply(n);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            all.add(f);
        }
        return allOf(all);
    }

    /**
     * A response with a non-OK status becomes a failed future carrying that status; a request that
     * got no answer (connection refused or lost, timeout) fails with {@link Unreachable}.
     */
    private CompletableFuture<PeerResponse> send(NodeInfo n, PeerRequest req, Placement p) {
        return peers.send(n.address(), req).handle((resp, err) -> {
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

    private <T> CompletableFuture<T> withRetry(String what, Function<Placement, CompletableFuture<T>> attempt) {
        CompletableFuture<T> result = new CompletableFuture<>();
        run(what, attempt, result, 1, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS));
        return result;
    }

    private <T> void run(String what, Function<Placement, CompletableFuture<T>> attempt, CompletableFuture<T> result,
                         int n, long deadline) {
        Placement p = cluster.placement();
        CompletableFuture<T> f;
        try {
            f = attempt.apply(p);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((v, err) -> {
            if (err == null) {
                result.complete(v);
                return;
            }
            Status st = KelpieException.statusOf(err);
            boolean retry = isEpochError(err) || unwrap(err) instanceof Unreachable;
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (!retry || n >= MAX_ATTEMPTS || left <= 0) {
                result.completeExceptionally(err);
                return;
            }
            CompletableFuture<?> wait;
            if (st == Status.NEW_EPOCH) {
                // The replica has not caught up with our epoch yet: give it a moment.
                wait = delay(50L * n);
            } else {
                // We are behind (OLD_EPOCH), or a replica is unreachable: wait for the next epoch.
                wait = cluster.epochAbove(p.epoch()).orTimeout(Math.max(1, left), TimeUnit.MILLISECONDS);
            }
            wait.whenCompleteAsync((x, waitErr) -> {
                if (waitErr != null) {
                    result.completeExceptionally(err);
                } else {
                    log.debug("retrying {} (attempt {}) after {}", what, n + 1, KelpieException.messageOf(err));
                    run(what, attempt, result, n + 1, deadline);
                }
            }, executor);
        });
    }

    private static CompletableFuture<Void> delay(long millis) {
        return CompletableFuture.runAsync(() -> { }, CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS));
    }

    private boolean isLocal(NodeInfo n) {
        return n.id().equals(cluster.self().id());
    }

    private List<NodeInfo> readOrder(List<NodeInfo> replicas) {
        List<NodeInfo> order = new ArrayList<>(replicas.size());
        for (NodeInfo n : replicas) {
            if (isLocal(n)) {
                order.add(0, n);
            } else {
                order.add(n);
            }
        }
        return order;
    }

    private static boolean isEpochError(Throwable err) {
        Status st = KelpieException.statusOf(err);
        return st == Status.OLD_EPOCH || st == Status.NEW_EPOCH;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof java.util.concurrent.CompletionException || c instanceof java.util.concurrent.ExecutionException)
                && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    private static CompletableFuture<Void> allOf(List<CompletableFuture<Void>> all) {
        return all.size() == 1 ? all.get(0) : CompletableFuture.allOf(all.toArray(new CompletableFuture[0]));
    }

    /** A replica that did not answer: retried once the cluster has moved to a new epoch. */
    static final class Unreachable extends KelpieException {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(Status.IO_ERROR, message);
        }
    }
}
