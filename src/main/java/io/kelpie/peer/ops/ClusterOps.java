package io.kelpie.peer.ops;

import io.kelpie.config.ClusterConfig;
import io.kelpie.node.EpochRecord;
import io.kelpie.node.Member;
import io.kelpie.node.Node;
import io.kelpie.peer.AdminMessages.ClusterInfo;
import io.kelpie.peer.AdminMessages.EpochInfo;
import io.kelpie.peer.AdminMessages.MemberInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.store.ObjectStore.StoreStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;

/** Admin opcodes about the cluster and its nodes. */
final class ClusterOps {
    private ClusterOps() {
    }

    /** FORMAT(i32 copies; FORCE) -> ClusterInfo. */
    static final PeerOp FORMAT = (node, req, ex) -> Blocking.on(ex, () -> {
        int copies = new WireReader(req.payload().duplicate()).i32();
        node.format(copies, req.hasFlag(PeerConstants.FLAG_FORCE));
        return clusterInfo(node);
    });

    /** CLUSTER_INFO -> ClusterInfo. */
    static final PeerOp INFO = (node, req, ex) -> Blocking.on(ex, () -> clusterInfo(node));

    /** NODE_LIST and NODE_INFO -> i32 n, n x MemberInfo (a single node: itself, with its space). */
    static final PeerOp NODES = (node, req, ex) -> Blocking.on(ex, () -> {
        List<Member> members = node.members();
        WireWriter w = new WireWriter(Unpooled.buffer());
        w.i32(members.size());
        for (Member m : members) {
            // only this node's space is known locally; others report zeros until the cluster asks them
            StoreStats s = m.id().equals(node.self().id()) ? node.store().stats() : new StoreStats(0, 0, 0);
            new MemberInfo(m.id(), m.address(), m.zone(), s.used(), s.free(), s.objects()).write(w);
        }
        return w.buf();
    });

    private static ByteBuf clusterInfo(Node node) {
        WireWriter w = new WireWriter(Unpooled.buffer());
        if (!node.formatted()) {
            new ClusterInfo(false, "", 0, 0, 0, node.epoch(), List.of()).write(w);
            return w.buf();
        }
        ClusterConfig c = node.config();
        List<EpochInfo> history = new ArrayList<>();
        for (EpochRecord e : node.epochHistory()) {
            history.add(new EpochInfo(e.epoch(), e.time(), e.members().stream().map(Member::address).toList()));
        }
        new ClusterInfo(true, c.clusterId().toString(), c.createTime(), c.copies(), c.blockSizeShift(), node.epoch(),
                history).write(w);
        return w.buf();
    }
}
