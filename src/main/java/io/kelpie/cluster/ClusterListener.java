package io.kelpie.cluster;

import java.util.List;

/**
 * What a node does with the cluster's ordered stream. Called on the driver's single event thread
 * in the same order on every member, so the callbacks must be deterministic functions of the
 * state and must not block waiting for other cluster events.
 */
public interface ClusterListener {

    /** Where a group stands, judged by the listener from the members it can reach. */
    enum Standing {
        /** A strict majority of the last epoch: it changes membership and serves. */
        SERVING,
        /** Restarted from local state and assembling its last epoch's nodes: it admits, nothing else. */
        WAITING,
        /** Neither: it changes nothing and waits for a majority or for a group to join. */
        MINORITY
    }

    /** On every member, when a node asks to join: null to admit it, else the reason it is refused. */
    String checkJoin(NodeInfo joiner, byte[] joinData);

    /**
     * A node was admitted (on the founder: itself, the only member, with empty join data).
     * {@code time} is the same on every member: when the change was announced.
     */
    void onJoin(NodeInfo joined, List<NodeInfo> members, long time, byte[] joinData);

    /** A member left gracefully or was found dead. */
    void onLeave(NodeInfo left, List<NodeInfo> members, long time);

    /** An event broadcast by {@code sender}; the return value goes back to the sender's broadcast. */
    Object onEvent(NodeInfo sender, byte[] payload) throws Exception;

    /** The state a joining node needs, taken right after its admission was applied. */
    byte[] snapshot();

    /** On the joining node: the cluster's state at its admission, in place of its own. */
    void restore(List<NodeInfo> members, byte[] snapshot);

    /** What this node sends with every JOIN (members see it in checkJoin and onJoin). */
    byte[] joinData();

    /**
     * The group's standing with {@code reachable} of its {@code members} (in view and at the same
     * point of its history). Called on every change of either; also where the listener learns
     * whether it may serve. Must be quick and must not block.
     */
    Standing assess(List<NodeInfo> members, List<NodeInfo> reachable);

    /** This node left its group (removed, or its group gave way) and is joining again. */
    void detached(String why);

    /** Which cluster the group's state belongs to (its id), or "" before format. */
    String groupTag();

    /** How new the group's history is (its latest epoch); the newer one wins a merge. */
    long claim();
}
