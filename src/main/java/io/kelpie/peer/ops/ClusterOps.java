package io.kelpie.peer.ops;

import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.config.ClusterConfig;
import io.kelpie.peer.AdminMessages.ClusterInfo;
import io.kelpie.peer.AdminMessages.EpochInfo;
import io.kelpie.peer.AdminMessages.MemberInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.store.ObjectStore.StoreStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Admin opcodes about the cluster and its nodes. */
final class ClusterOps {
    private ClusterOps() {
    }

    /** FORMAT(i32 copies[, i32 min copies, 0 = a majority]; FORCE) -> ClusterInfo. */
    static final PeerOp<ClusterService> FORMAT = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        int copies = r.i32();
        int minCopies = req.payload().readableBytes() >= 8 ? r.i32() : 0;
        service.format(copies, minCopies, req.hasFlag(PeerConstants.FLAG_FORCE));
        return clusterInfo(service);
    });

    /**
     * CLUSTER_SHUTDOWN -> i64 epoch: every node applies it in cluster order and stops cleanly
     * (this one too, on a thread of its own, after this answer has gone out).
     */
    static final PeerOp<ClusterService> SHUTDOWN = (service, req, ex) -> Blocking.on(ex, () -> {
        long epoch = service.cluster().shutdown().join();
        WireWriter w = new WireWriter(Unpooled.buffer(8));
        w.i64(epoch);
        return w.buf();
    });

    /** CLUSTER_RECOVER -> string: go on without the last epoch's missing nodes. */
    static final PeerOp<ClusterService> RECOVER = (service, req, ex) -> Blocking.on(ex, () -> {
        String done = service.cluster().recoverForce().join();
        WireWriter w = new WireWriter(Unpooled.buffer());
        w.string(done);
        return w.buf();
    });

    /** CLUSTER_INFO -> ClusterInfo. */
    static final PeerOp<ClusterService> INFO = (service, req, ex) -> Blocking.on(ex, () -> clusterInfo(service));

    /**
     * NODE_LIST and NODE_INFO -> i32 n, n x MemberInfo: every member with its vnodes and the space of
     * its store, which each member reports for itself (NODE_INFO with FLAG_LOCAL). A member that does
     * not answer shows -1.
     */
    static final PeerOp<ClusterService> NODES = (service, req, ex) -> Blocking.on(ex, () -> {
        List<NodeInfo> members = req.hasFlag(PeerConstants.FLAG_LOCAL) ? List.of(service.self()) : service.cluster().members();
        List<CompletableFuture<MemberInfo>> infos = new ArrayList<>();
        for (NodeInfo m : members) {
            infos.add(m.id().equals(service.self().id()) ? CompletableFuture.completedFuture(local(service, m)) : remote(service, m));
        }
        WireWriter w = new WireWriter(Unpooled.buffer());
        w.i32(members.size());
        for (CompletableFuture<MemberInfo> f : infos) {
            f.join().write(w);
        }
        return w.buf();
    });

    private static MemberInfo local(ClusterService service, NodeInfo m) throws java.io.IOException {
        StoreStats s = service.localStats();
        return new MemberInfo(m.id(), m.address(), m.zone(), s.used(), s.free(), s.objects(), m.vnodes());
    }

    private static CompletableFuture<MemberInfo> remote(ClusterService service, NodeInfo m) {
        MemberInfo unknown = new MemberInfo(m.id(), m.address(), m.zone(), -1, -1, -1, m.vnodes());
        return service.peers().send(m.address(), PeerRequest.of(PeerConstants.NODE_INFO, PeerConstants.FLAG_LOCAL, 0, 0, 0, 0))
                .orTimeout(5, TimeUnit.SECONDS)
                .handle((resp, err) -> {
                    if (err != null) {
                        return unknown;
                    }
                    try {
                        if (!resp.ok()) {
                            return unknown;
                        }
                        WireReader r = new WireReader(resp.payload());
                        if (r.i32() < 1) {
                            return unknown;
                        }
                        MemberInfo theirs = MemberInfo.read(r);
                        return new MemberInfo(m.id(), m.address(), m.zone(), theirs.used(), theirs.free(), theirs.objects(),
                                m.vnodes());
                    } catch (RuntimeException e) {
                        return unknown;
                    } finally {
                        resp.release();
                    }
                });
    }

    private static ByteBuf clusterInfo(ClusterService service) {
        WireWriter w = new WireWriter(Unpooled.buffer());
        if (!service.formatted()) {
            new ClusterInfo(false, "", 0, 0, 0, 0, service.epoch(), List.of(), service.cluster().ioRefusal()).write(w);
            return w.buf();
        }
        ClusterConfig c = service.config();
        List<EpochInfo> history = new ArrayList<>();
        for (Epoch e : service.cluster().history()) {
            history.add(new EpochInfo(e.number(), e.time(), e.members().stream().map(NodeInfo::address).toList()));
        }
        new ClusterInfo(true, c.clusterId().toString(), c.createTime(), c.copies(), c.minCopies(), c.blockSizeShift(), service.epoch(),
                history, service.cluster().ioRefusal()).write(w);
        return w.buf();
    }
}
