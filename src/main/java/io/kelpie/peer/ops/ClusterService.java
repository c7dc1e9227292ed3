package io.kelpie.peer.ops;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.config.ClusterConfig;
import io.kelpie.peer.PeerTransport;
import io.kelpie.store.ObjectStore.StoreStats;

import java.io.IOException;

/** What the cluster and node opcodes need of the node. */
public interface ClusterService {
    /** Formats the whole cluster; refused on a formatted cluster unless {@code force}. */
    void format(int copies, int minCopies, boolean force) throws IOException;

    boolean formatted();

    /** The cluster config; fails with NOT_FORMATTED before {@code cluster format}. */
    ClusterConfig config();

    /** The node's current epoch (0 while it has not joined). */
    long epoch();

    /** Membership, epochs, shutdown and forced recovery. */
    ClusterManager cluster();

    /** This node as the cluster sees it. */
    NodeInfo self();

    /** The space and objects of this node's store. */
    StoreStats localStats() throws IOException;

    /** For asking the other members about themselves. */
    PeerTransport peers();
}
