package io.kelpie.cluster;

import java.util.List;

/**
 * What a node does with the cluster's ordered stream. Called on the driver's single event thread
 * in the same order on every member, so the callbacks must be deterministic functions of the
 * state and must not block waiting for other cluster events.
 */
public interface ClusterListener {

    /** On every member, when a node asks to join: null to admit it, else the reason it is refused. */
    String checkJoin(NodeInfo joiner, byte[] joinData);

    /**
     * A node was admitted (on the founder: itself, the only member). {@code time} is the same on
     * every member: when the change was announced.
     */
    void onJoin(NodeInfo joined, List<NodeInfo> members, long time);

    /** A member left gracefully or was found dead. */
    void onLeave(NodeInfo left, List<NodeInfo> members, long time);

    /** An event broadcast by {@code sender}; the return value goes back to the sender's broadcast. */
    Object onEvent(NodeInfo sender, byte[] payload) throws Exception;

    /** The state a joining node needs, taken right after its admission was applied. */
    byte[] snapshot();

    /** On the joining node: the cluster's state at its admission, in place of its own. */
    void restore(List<NodeInfo> members, byte[] snapshot);
}
