package io.kelpie.gateway;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.config.ClusterConfig;

import java.util.concurrent.CompletableFuture;

/**
 * What the replicated gateway needs from the cluster: who this node is, the current placement,
 * a way to wait for the next one, and the min-copies rule. Narrow so that tests can drive the
 * gateway through epochs and refusals without a cluster.
 */
public interface ClusterView {

    NodeInfo self();

    /** The current epoch, its ring and whether this node may serve I/O. */
    Placement placement();

    /** Completes once the placement is another one than {@code seen} (possibly on the cluster thread). */
    CompletableFuture<Placement> placementChanged(Placement seen);

    /** The fewest replicas of an object with {@code copies} copies that must store a write. */
    int minCopiesFor(int copies);

    /** The cluster's default copies (1 before format). */
    int copies();

    /** The view of a node's cluster manager; before format every replica must store a write. */
    static ClusterView of(ClusterManager cluster) {
        return new ClusterView() {
            @Override
            public NodeInfo self() {
                return cluster.self();
            }

            @Override
            public Placement placement() {
                return cluster.placement();
            }

            @Override
            public CompletableFuture<Placement> placementChanged(Placement seen) {
                return cluster.placementChanged(seen);
            }

            @Override
            public int minCopiesFor(int copies) {
                ClusterConfig c = cluster.config();
                return c == null ? copies : c.minCopiesFor(copies);
            }

            @Override
            public int copies() {
                ClusterConfig c = cluster.config();
                return c == null ? 1 : c.copies();
            }
        };
    }
}
