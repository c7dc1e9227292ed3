package io.kelpie.recovery;

import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which local copies count as current without a comparison, across epoch changes. */
class ConfirmedTest {
    private static final NodeInfo A = node("a");
    private static final NodeInfo B = node("b");
    private static final NodeInfo C = node("c");
    private static final NodeInfo D = node("d");

    private static NodeInfo node(String id) {
        return new NodeInfo(id, "127.0.0.1", 7000 + id.charAt(0), null, 64, 0);
    }

    private static Epoch epoch(long n, NodeInfo... members) {
        return new Epoch(n, n, List.of(members));
    }

    /** An object that node {@code self} holds under {@code ring} (copies 1), found by search. */
    private static long ownedBy(NodeInfo self, Ring ring) {
        for (long oid = 1; oid < 1_000_000; oid++) {
            if (ring.replicas(oid, 1).get(0).id().equals(self.id())) {
                return oid;
            }
        }
        throw new AssertionError("no object of " + self.id());
    }

    @Test
    void aReplicaThroughEveryEpochStaysCurrentAndOneThatWasNotIsCompared() {
        List<Epoch> history = new ArrayList<>(List.of(epoch(1, A, B, C), epoch(2, A, B))); // c left
        Confirmed first = Confirmed.none("a", oid -> 1).next(1, history);
        Ring r1 = new Ring(history.get(0).members());
        Ring r2 = new Ring(history.get(1).members());
        long kept = -1;
        long gained = -1;
        for (long oid = 1; (kept < 0 || gained < 0) && oid < 1_000_000; oid++) {
            boolean in1 = r1.replicas(oid, 1).get(0).id().equals("a");
            boolean in2 = r2.replicas(oid, 1).get(0).id().equals("a");
            if (in1 && in2 && kept < 0) {
                kept = oid;
            } else if (!in1 && in2 && gained < 0) {
                gained = oid;
            }
        }
        assertTrue(kept > 0 && gained > 0, "found an object a kept and one it gained");
        assertTrue(first.contains(kept), "the format epoch: every object a holds is current");
        Confirmed second = first.next(2, history);
        assertTrue(second.contains(kept), "a stayed a member and the replica: current");
        assertFalse(second.contains(gained), "a became the replica in epoch 2 (from c): it may lack writes");
        second.add(gained);
        assertTrue(second.contains(gained), "confirmed once compared or fetched");
    }

    @Test
    void aNodeThatMissedAnEpochComparesEverything() {
        // a's log: it was not a member of epoch 2 (it was away), then came back in epoch 3.
        List<Epoch> history = List.of(epoch(1, A, B), epoch(2, B), epoch(3, A, B));
        Confirmed first = Confirmed.none("a", oid -> 1).next(1, history);
        long oid = ownedBy(A, new Ring(List.of(A, B)));
        assertTrue(first.contains(oid));
        assertFalse(first.next(3, history).contains(oid), "writes of epoch 2 went elsewhere");
    }

    @Test
    void aRestartedNodeTrustsNothingItHasNotCompared() {
        List<Epoch> history = List.of(epoch(1, A, B), epoch(2, A, B, D));
        long oid = ownedBy(A, new Ring(List.of(A, B, D)));
        assertFalse(Confirmed.none("a", x -> 1).next(2, history).contains(oid));
    }

    @Test
    void copiesOfAnUnknownVdiAreNeverInherited() {
        List<Epoch> history = List.of(epoch(1, A), epoch(2, A, B));
        Confirmed second = Confirmed.none("a", oid -> 0).next(1, history).next(2, history);
        assertFalse(second.contains(ownedBy(A, new Ring(List.of(A, B)))));
    }
}
