package io.kelpie.cluster;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Group membership with a totally ordered broadcast, after Sheepdog's {@code sheep/cluster.h}:
 * every member sees the same sequence of joins, leaves and events, so each can apply them to its
 * own state and all end up with the same state. Implementations: {@link JGroupsDriver} (separate
 * processes) and {@link LocalDriver} (nodes in one JVM, for tests).
 *
 * <p>All {@link ClusterListener} callbacks run on one driver thread, in delivery order.
 */
public interface ClusterDriver extends AutoCloseable {

    /**
     * Joins the cluster, or founds it when no other member is reachable, and returns once this
     * node is a member (its listener has been restored from a member's snapshot or told of its
     * own founding join).
     *
     * @throws io.kelpie.common.KelpieException CLUSTER_MISMATCH when the members refuse this node,
     *                                          IO_ERROR when no member admits it in time
     */
    void join(NodeInfo self, ClusterListener listener, long timeoutMillis) throws InterruptedException;

    /**
     * Sends an event to every member, this one included, in the cluster's total order. Completes
     * with what this node's {@link ClusterListener#onEvent} returned for it (or its exception),
     * once it was applied here.
     */
    CompletableFuture<Object> broadcast(byte[] payload);

    /** The members in admission order, as of the last delivered change. */
    List<NodeInfo> members();

    NodeInfo self();

    /** Leaves the cluster gracefully: the others see the leave at once, not after a timeout. */
    void leave();

    /** Leaves if still a member and releases every resource. */
    @Override
    void close();
}
