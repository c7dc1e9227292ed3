package io.kelpie.peer.ops;

import io.kelpie.check.CheckReport;
import io.kelpie.check.Checker;
import io.kelpie.check.Checker.Target;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.node.Node;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.recovery.RecoveryStatus;
import io.kelpie.recovery.RecoveryStatus.OfNode;
import io.kelpie.recovery.RecoveryWorker;
import io.kelpie.vdi.Inode;
import io.kelpie.common.ObjectIds;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * VDI_CHECK(name) and CLUSTER_CHECK -> {@link CheckReport}: compare and repair every replica of
 * every object of one VDI (its inode and the data objects it owns) or of every VDI. Runs on the
 * admin executor (it waits for the whole check); the response is one payload with every line.
 */
final class CheckOps {
    /** Objects checked at once: each asks every member, so this bounds the load on each node. */
    static final int PARALLEL = 8;

    private CheckOps() {
    }

    static final PeerOp VDI = (node, req, ex) -> Blocking.on(ex, () -> {
        String name = new WireReader(req.payload().duplicate()).string();
        VdiManager vdis = node.vdis();
        Inode in = vdis.find(name);
        return run(node, 1, targets(vdis, in, true));
    });

    static final PeerOp CLUSTER = (node, req, ex) -> Blocking.on(ex, () -> {
        VdiManager vdis = node.vdis();
        List<Inode> all = vdis.list();
        List<Target> targets = new ArrayList<>();
        for (Inode in : all) {
            targets.addAll(targets(vdis, in, false));
        }
        return run(node, all.size(), targets);
    });

    /** The inode and the data objects this VDI owns (objects shared with a parent are the parent's to check). */
    static List<Target> targets(VdiManager vdis, Inode in, boolean strict) {
        List<Target> out = new ArrayList<>();
        out.add(new Target(ObjectIds.inodeOid(in.vdiId()), in.copies()));
        Map<Long, Integer> table;
        try {
            table = vdis.allocatedObjects(in);
        } catch (KelpieException e) {
            if (strict) {
                throw e;
            }
            return out; // a snapshot without a tag cannot be looked up by name: its inode only
        }
        table.forEach((index, owner) -> {
            if (owner == in.vdiId()) {
                out.add(new Target(ObjectIds.dataOid(owner, index), in.copies()));
            }
        });
        return out;
    }

    private static io.netty.buffer.ByteBuf run(Node node, int vdiCount, List<Target> targets) throws InterruptedException {
        Checker checker = new Checker(node.peers(), view(node), PARALLEL);
        CheckReport report = checker.check(vdiCount, targets);
        WireWriter w = new WireWriter(Unpooled.buffer());
        report.write(w);
        return w.buf();
    }

    private static Checker.View view(Node node) {
        return new Checker.View() {
            @Override
            public List<NodeInfo> members() {
                return node.memberInfos();
            }

            @Override
            public List<NodeInfo> replicas(long oid, int copies) {
                return node.cluster().placement().ring().replicas(oid, copies);
            }

            @Override
            public boolean recoveryIdle() {
                RecoveryWorker worker = node.recoveryWorker();
                if (worker == null) {
                    return false;
                }
                long epoch = node.epoch();
                for (OfNode n : worker.statusOfMembers(false)) {
                    RecoveryStatus s = n.status();
                    if (s == null || !(s.state() == RecoveryStatus.State.IDLE || s.doneWith(epoch))) {
                        return false;
                    }
                }
                return true;
            }
        };
    }
}
