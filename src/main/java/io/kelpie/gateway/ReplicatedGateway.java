package io.kelpie.gateway;

import io.kelpie.peer.PeerTransport;
import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.common.ObjectIds;
import io.kelpie.peer.WireWriter;
import io.kelpie.store.FileSlice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongFunction;

/**
 * The gateway of a cluster node: each object lives on the nodes the ring of the current epoch
 * names. Changes go to every replica in parallel (the local one straight to the store) and are
 * acknowledged once min-copies of them stored it and the others answered or had a straggler
 * window more ({@link WriteRound}); replicas that missed it are recorded and repaired
 * ({@link Laggards}). Reads go to the local replica if there is one, else to the others in ring
 * order; a replica whose copy fails its checksum, or that errs, passes the read on at once.
 *
 * <p>Every peer request carries the epoch its placement came from; a replica on another epoch
 * refuses it, and an unreachable one fails it, until the cluster has moved on. The request is
 * then retried under the newer placement ({@link RetryLoop}), all of it within one time budget.
 * Changes are idempotent; a retry skips replicas that already stored the change.
 */
public final class ReplicatedGateway implements Gateway {
    private static final Logger log = LoggerFactory.getLogger(ReplicatedGateway.class);

    private final ClusterView cluster;
    private final LocalReplica local;
    private final PeerCalls calls;
    private final ReplicaReads reads;
    private final LongFunction<CompletableFuture<Void>> repairLocal;
    private final GatewayTimeouts timeouts;
    private final Laggards laggards;
    private final RetryLoop retry;
    private volatile long prunedEpoch = -1;

    /**
     * @param local       this node's replica; recovery stands in front of it (io.kelpie.recovery)
     * @param repairLocal brings the local copy of an object up to date from the other replicas
     *                    (after a checksum failure, a store error or a missed write)
     */
    public ReplicatedGateway(ClusterView cluster, LocalReplica local, PeerTransport peers, Executor executor,
                             LongFunction<CompletableFuture<Void>> repairLocal,
                             GatewayTimeouts timeouts) {
        this.cluster = cluster;
        this.local = local;
        this.calls = new PeerCalls(peers);
        this.repairLocal = repairLocal;
        this.timeouts = timeouts;
        this.laggards = new Laggards(this::repair);
        this.retry = new RetryLoop(cluster, executor, timeouts.budget().toMillis(), this::placementSeen);
        this.reads = new ReplicaReads(cluster, local, calls, laggards, timeouts.readTry());
    }

    @Override
    public CompletableFuture<ByteBuf> read(long oid, int copies, long offset, int length) {
        return retry.run("read", oid,
                (p, deadline) -> reads.attempt(p, oid, copies, offset, length, deadline));
    }

    /** From the local copy only, if it is a current replica; any failure is the ordinary read's to handle. */
    @Override
    public CompletableFuture<FileSlice> readSlice(long oid, int copies, long offset, int length) {
        for (NodeInfo n : replicas(oid, copies)) {
            if (isLocal(n)) {
                return laggards.isLagging(oid, n) ? CompletableFuture.completedFuture(null)
                        : local.readSlice(oid, copies, offset, length).exceptionally(err -> null);
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> write(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        int flags = sync ? PeerConstants.FLAG_SYNC : 0;
        return change("write", oid, copies, false, true, (n, p, timeout) -> isLocal(n)
                ? local.write(oid, copies, offset, data, sync)
                : send(n, new PeerRequest(PeerConstants.WRITE_OBJ, flags, p.epoch(), 0, oid, offset, 0,
                        data.retainedDuplicate()), timeout).thenAccept(PeerResponse::release));
    }

    /** Every replica creates the object at version {@code epoch << 32}: above any orphan of an earlier epoch. */
    @Override
    public CompletableFuture<Void> create(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        int flags = sync ? PeerConstants.FLAG_SYNC : 0;
        // A retry in a newer epoch re-creates on every replica, so that all share one base version.
        return change("create", oid, copies, true, true, (n, p, timeout) -> isLocal(n)
                ? local.createAt(oid, p.epoch() << 32, offset, data, sync)
                : send(n, new PeerRequest(PeerConstants.CREATE_AND_WRITE_OBJ, flags, p.epoch(), 0, oid, offset, 0,
                        data.retainedDuplicate()), timeout).thenAccept(PeerResponse::release));
    }

    @Override
    public CompletableFuture<Void> zero(long oid, int copies, long offset, long length, boolean sync) {
        int flags = sync ? PeerConstants.FLAG_SYNC : 0;
        return change("zero", oid, copies, false, true, (n, p, timeout) -> isLocal(n)
                ? local.zero(oid, copies, offset, length, sync)
                : send(n, PeerRequest.of(PeerConstants.ZERO_OBJ, flags, p.epoch(), oid, offset, (int) length), timeout)
                        .thenAccept(PeerResponse::release));
    }

    /** A remove that a replica missed leaves an orphan; a later create outranks it by its version. */
    @Override
    public CompletableFuture<Void> remove(long oid, int copies) {
        return change("remove", oid, copies, false, false, (n, p, timeout) -> isLocal(n)
                ? local.remove(oid, copies)
                : send(n, PeerRequest.of(PeerConstants.REMOVE_OBJ, 0, p.epoch(), oid, 0, 0), timeout)
                        .thenAccept(PeerResponse::release));
    }

    /**
     * Every node flushes. A node may fail or straggle as long as each object still has min-copies
     * durable replicas: at most {@code copies - min-copies} nodes (of the cluster's copies).
     */
    @Override
    public CompletableFuture<Void> flush() {
        return retry.run("flush", RetryLoop.NO_OBJECT, (p, deadline) -> {
            List<NodeInfo> nodes = p.ring().nodes();
            int copies = cluster.copies();
            int need = Math.max(1, nodes.size() - (copies - cluster.minCopiesFor(copies)));
            return WriteRound.run(nodes, Math.min(need, nodes.size()), timeouts.straggler().toMillis(), n -> isLocal(n)
                    ? local.flush()
                    : send(n, PeerRequest.of(PeerConstants.FLUSH, 0, p.epoch(), 0, 0, 0), requestTimeout(deadline))
                            .thenAccept(PeerResponse::release)).thenApply(o -> {
                if (o.stored().size() < need) {
                    throw tooFew("flush", -1, o, o.stored().size(), nodes.size(), need, p, List.of());
                }
                o.missed().forEach(n -> log.warn("node {} did not flush in time: {}", n.address(),
                        o.failed().containsKey(n) ? KelpieException.messageOf(o.failed().get(n)) : "no answer"));
                return null;
            });
        });
    }

    /** Where an object lives in the current epoch: its replicas, in ring order. */
    public List<NodeInfo> replicas(long oid, int copies) {
        return cluster.placement().ring().replicas(oid, copies);
    }

    /** Replicas recorded as lagging for {@code oid} (node ids), for tests and check. */
    public Set<String> laggards(long oid) {
        return laggards.of(oid);
    }

    @Override
    public void close() {
        if (calls.transport() instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.debug("closing the peer transport failed: {}", e.toString());
            }
        }
    }

    // ---- changes ----

    private interface ReplicaOp {
        CompletableFuture<Void> apply(NodeInfo n, Placement p, Duration timeout);
    }

    /**
     * One change of an object on its replicas, retried across epochs.
     *
     * @param resendToAll a retry goes to every replica again (create: one base version for all)
     * @param record      replicas that missed an acknowledged change become laggards (not for remove)
     */
    private CompletableFuture<Void> change(String what, long oid, int copies, boolean resendToAll, boolean record,
                                           ReplicaOp op) {
        Set<String> stored = ConcurrentHashMap.newKeySet();
        ConcurrentHashMap<String, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
        return retry.run(what, oid, (p, deadline) -> {
            List<NodeInfo> replicas = p.ring().replicas(oid, copies);
            int min = Math.min(cluster.minCopiesFor(copies), copies);
            if (replicas.size() < min) {
                return CompletableFuture.failedFuture(new KelpieException(Status.NOT_ENOUGH_ZONES, "cannot store "
                        + copies + " copies: the cluster has only " + p.ring().zones() + " zone(s) holding data (epoch "
                        + p.epoch() + ") and a write needs " + min + "; add nodes in other zones or use fewer copies"));
            }
            if (resendToAll) {
                stored.clear();
            }
            List<NodeInfo> targets = new ArrayList<>();
            List<NodeInfo> skipped = new ArrayList<>();
            int have = 0;
            for (NodeInfo n : replicas) {
                // A remove (record false) reaches laggards too: a copy behind is no reason to keep it,
                // and a replica whose disk filled up gets its space back.
                if (record && laggards.isLagging(oid, n)) {
                    skipped.add(n); // its copy is behind: writing into it would make it look current
                    continue;
                }
                CompletableFuture<Void> earlier = inFlight.get(n.id());
                if (stored.contains(n.id()) || (!resendToAll && earlier != null && earlier.isDone()
                        && !earlier.isCompletedExceptionally())) {
                    have++;
                } else if (isLocal(n)) {
                    targets.add(n); // last: a small local write is done inline, after the peers have theirs
                } else {
                    targets.add(0, n);
                }
            }
            if (!skipped.isEmpty() && have + targets.size() < min) {
                // Too few current copies without the lagging replicas: nothing is sent, so that no
                // replica applies the change twice (once here, once in the repaired copy). The
                // retry waits for the repair.
                laggards.retry(oid);
                return CompletableFuture.failedFuture(tooFew(what, oid, WriteRound.Outcome.NONE, have,
                        replicas.size(), min, p, skipped));
            }
            Duration timeout = requestTimeout(deadline);
            int haveBefore = have;
            return WriteRound.run(targets, Math.max(0, min - have), timeouts.straggler().toMillis(), n -> {
                CompletableFuture<Void> earlier = inFlight.get(n.id());
                if (!resendToAll && earlier != null && !earlier.isDone()) {
                    return earlier; // still on its way from an earlier attempt: do not apply it twice
                }
                CompletableFuture<Void> f = op.apply(n, p, timeout);
                inFlight.put(n.id(), f);
                f.thenRun(() -> stored.add(n.id()));
                return f;
            }).thenApply(o -> {
                int total = haveBefore + o.stored().size();
                if (total < min) {
                    // Not acknowledged: nothing is recorded. A retry sends to the same replicas again
                    // (one that refused an epoch it has left behind must get it under the new one).
                    throw tooFew(what, oid, o, total, replicas.size(), min, p, skipped);
                }
                if (record) {
                    // Only now that the others have it: a repair asked for before this point may
                    // have pulled a copy without it, and must not clear the record.
                    skipped.forEach(n -> laggards.missed(oid, n, CompletableFuture.completedFuture(null), "lagging"));
                    recordMisses(oid, o);
                }
                return null;
            });
        });
    }

    private void recordMisses(long oid, WriteRound.Outcome o) {
        o.failed().forEach((n, err) -> laggards.missed(oid, n, CompletableFuture.completedFuture(null),
                KelpieException.messageOf(err)));
        o.stragglers().forEach((n, f) -> laggards.missed(oid, n, f,
                "no answer within " + timeouts.straggler().toMillis() + " ms"));
    }

    private static TooFewCopies tooFew(String what, long oid, WriteRound.Outcome o, int stored, int replicas, int min,
                                       Placement p, List<NodeInfo> lagging) {
        boolean retryable = !o.stragglers().isEmpty() || o.failed().values().stream().anyMatch(RetryLoop::retryable);
        StringBuilder b = new StringBuilder(what);
        if (oid != -1) {
            b.append(" of object ").append(ObjectIds.toHex(oid));
        }
        b.append(" failed: stored by ").append(stored).append(" of ").append(replicas).append(oid != -1 ? " replicas" : " nodes")
                .append(", min-copies is ").append(min).append(" (epoch ").append(p.epoch()).append(')');
        o.failed().forEach((n, err) -> b.append("; ").append(n.address()).append(": ").append(KelpieException.messageOf(err)));
        o.stragglers().keySet().forEach(n -> b.append("; ").append(n.address()).append(": no answer"));
        lagging.forEach(n -> b.append("; ").append(n.address()).append(": missed earlier writes, awaits repair"));
        // A replica out of space, and none that another epoch may cure: the client gets ENOSPC.
        boolean full = !retryable && o.failed().values().stream().anyMatch(e -> KelpieException.statusOf(e) == Status.NO_SPACE);
        // A replica that missed a write while the membership changed (it refused the old epoch) is
        // being repaired: the retry waits for that, not for another epoch.
        boolean awaitsRepair = !full && !lagging.isEmpty();
        return new TooFewCopies(full ? Status.NO_SPACE : Status.TOO_FEW_COPIES, b.toString(), retryable || awaitsRepair,
                awaitsRepair && !retryable);
    }

    // ---- repair ----

    /** REPAIR_OBJ(oid; length = copies hint 0): the replica pulls the newest verified copy from the others. */
    private CompletableFuture<Void> repair(NodeInfo n, long oid) {
        if (isLocal(n)) {
            return repairLocal.apply(oid);
        }
        Placement p = cluster.placement();
        if (laggards.isLagging(oid, cluster.self())) {
            return send(n, PeerRequest.of(PeerConstants.REPAIR_OBJ, 0, p.epoch(), oid, 0, 0), timeouts.repair())
                    .thenAccept(PeerResponse::release);
        }
        // This node stored the write the replica missed: it copies this node's copy, whatever the
        // versions say (a replica that missed one write but took others can count as many). When
        // this node holds no copy (not a replica), the replica takes the newest from all holders.
        ByteBuf source = Unpooled.buffer();
        new WireWriter(source).string(cluster.self().address());
        return send(n, PeerRequest.withPayload(PeerConstants.REPAIR_OBJ, PeerConstants.FLAG_FORCE, p.epoch(), oid, 0,
                source), timeouts.repair())
                .thenAccept(PeerResponse::release)
                .exceptionallyCompose(err -> send(n, PeerRequest.of(PeerConstants.REPAIR_OBJ, 0, p.epoch(), oid, 0, 0),
                        timeouts.repair()).thenAccept(PeerResponse::release));
    }

    private void placementSeen(Placement p) {
        if (p.epoch() != prunedEpoch) {
            prunedEpoch = p.epoch();
            laggards.retainMembers(p.ring().nodes());
        }
    }

    // ---- helpers ----

    private CompletableFuture<PeerResponse> send(NodeInfo n, PeerRequest req, Duration timeout) {
        return calls.send(n, req, timeout);
    }

    private static Duration requestTimeout(long deadline) {
        return PeerCalls.requestTimeout(deadline);
    }

    private boolean isLocal(NodeInfo n) {
        return n.id().equals(cluster.self().id());
    }
}
