package io.kelpie.gateway;

import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.RetryLoop.Unreachable;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.common.ObjectIds;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * One attempt of a read: the local replica first, then the others in ring order, skipping
 * laggards. Any failure hands the read on to the next replica at once; a remote replica that does
 * not answer within {@code readTry} is passed over too (the last one gets the rest of the budget).
 * A copy that fails its checksum, or whose store errs, is recorded and repaired.
 */
final class ReplicaReads {
    private static final Logger log = LoggerFactory.getLogger(ReplicatedGateway.class);

    private final ClusterView cluster;
    private final LocalReplica local;
    private final PeerCalls peers;
    private final Laggards laggards;
    private final Duration readTry;

    ReplicaReads(ClusterView cluster, LocalReplica local, PeerCalls peers,
                 Laggards laggards, Duration readTry) {
        this.cluster = cluster;
        this.local = local;
        this.peers = peers;
        this.laggards = laggards;
        this.readTry = readTry;
    }

    CompletableFuture<ByteBuf> attempt(Placement p, long oid, int copies, long offset, int length, long deadline) {
        List<NodeInfo> replicas = readOrder(p.ring().replicas(oid, copies));
        if (replicas.isEmpty()) {
            return CompletableFuture.failedFuture(new KelpieException(Status.NOT_ENOUGH_ZONES,
                    "no node of the cluster holds data (epoch " + p.epoch() + ")"));
        }
        Set<String> lagging = laggards.of(oid);
        List<NodeInfo> current = replicas.stream().filter(n -> !lagging.contains(n.id())).toList();
        if (current.size() < replicas.size()) {
            laggards.retry(oid);
        }
        if (current.isEmpty()) {
            return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR, "object " + ObjectIds.toHex(oid)
                    + " has no up-to-date replica: " + replicas.stream().map(NodeInfo::address).toList()
                    + " missed writes and await repair"));
        }
        return readFrom(current, 0, p, oid, offset, length, deadline, null);
    }

    private CompletableFuture<ByteBuf> readFrom(List<NodeInfo> replicas, int i, Placement p, long oid, long offset,
                                                int length, long deadline, Throwable before) {
        NodeInfo n = replicas.get(i);
        boolean last = i == replicas.size() - 1;
        CompletableFuture<ByteBuf> f;
        if (isLocal(n)) {
            f = local.read(oid, 0, offset, length);
        } else {
            Duration left = PeerCalls.requestTimeout(deadline);
            Duration timeout = last || left.compareTo(readTry) < 0 ? left : readTry;
            f = peers.send(n, PeerRequest.of(PeerConstants.READ_OBJ, 0, p.epoch(), oid, offset, length), timeout)
                    .thenApply(PeerResponse::content);
        }
        return f.handle((buf, err) -> {
            if (err == null) {
                return CompletableFuture.completedFuture(buf);
            }
            failed(oid, n, err, last);
            // Prefer an error another epoch may cure: the retry loop then tries again.
            Throwable keep = before != null && RetryLoop.retryable(before) && !RetryLoop.retryable(err) ? before : err;
            return last ? CompletableFuture.<ByteBuf>failedFuture(keep)
                    : readFrom(replicas, i + 1, p, oid, offset, length, deadline, keep);
        }).thenCompose(Function.identity());
    }

    /** A replica whose copy is bad (checksum) or whose store fails stops serving the object until repaired. */
    private void failed(long oid, NodeInfo n, Throwable err, boolean last) {
        String why = KelpieException.messageOf(err);
        String next = last ? "" : "; trying the next replica";
        Throwable c = RetryLoop.unwrap(err);
        if (KelpieException.statusOf(c) == Status.CORRUPT) {
            log.warn("replica {} of object {} failed its checksum ({}){}", n.address(), ObjectIds.toHex(oid), why, next);
            laggards.missed(oid, n, CompletableFuture.completedFuture(null), "checksum mismatch");
        } else if (c instanceof Unreachable || RetryLoop.isEpochError(c)) {
            log.debug("read of {} from {} failed: {}{}", ObjectIds.toHex(oid), n.address(), why, next);
        } else {
            log.warn("read of object {} from {} failed: {}{}", ObjectIds.toHex(oid), isLocal(n) ? "the local store"
                    : n.address(), why, next);
            laggards.missed(oid, n, CompletableFuture.completedFuture(null), "read failed: " + why);
        }
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
}
