package io.kelpie.check;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.recovery.RecoveryStatus;
import io.kelpie.recovery.RecoveryStatus.OfNode;
import io.kelpie.recovery.RecoveryWorker;

import java.util.List;
import java.util.function.Supplier;

/** The {@link Checker.View} of a running node: its cluster's members and ring, and every member's recovery. */
public final class LiveView implements Checker.View {
    private final ClusterManager cluster;
    private final Supplier<RecoveryWorker> recovery;

    /** {@code recovery} supplies null while the node has not started its recovery. */
    public LiveView(ClusterManager cluster, Supplier<RecoveryWorker> recovery) {
        this.cluster = cluster;
        this.recovery = recovery;
    }

    @Override
    public List<NodeInfo> members() {
        return cluster.members();
    }

    @Override
    public List<NodeInfo> replicas(long oid, int copies) {
        return cluster.placement().ring().replicas(oid, copies);
    }

    @Override
    public boolean recoveryIdle() {
        RecoveryWorker worker = recovery.get();
        if (worker == null) {
            return false;
        }
        long epoch = cluster.epochNumber();
        for (OfNode n : worker.statusOfMembers(false)) {
            RecoveryStatus s = n.status();
            if (s == null || !(s.state() == RecoveryStatus.State.IDLE || s.doneWith(epoch))) {
                return false;
            }
        }
        return true;
    }
}
