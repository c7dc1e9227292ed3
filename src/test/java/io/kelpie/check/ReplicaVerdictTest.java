package io.kelpie.check;

import io.kelpie.check.ReplicaVerdict.Finding;
import io.kelpie.check.ReplicaVerdict.Problem;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.recovery.ObjectFetcher.Holder;
import io.kelpie.store.ObjectStore.ObjectMeta;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The check's decision from fake STAT results: which copy is best and which replicas to repair. */
class ReplicaVerdictTest {
    static final NodeInfo A = node("a", 7000);
    static final NodeInfo B = node("b", 7100);
    static final NodeInfo C = node("c", 7200);
    static final NodeInfo D = node("d", 7300);
    static final List<NodeInfo> RING = List.of(A, B, C);

    static NodeInfo node(String id, int port) {
        return new NodeInfo(id, "127.0.0.1", port, id, 128, 1L << 30);
    }

    static Holder good(NodeInfo n, long version, int digest) {
        return new Holder(n, new ObjectMeta(true, version, digest, List.of()));
    }

    static Holder absent(NodeInfo n) {
        return new Holder(n, ObjectMeta.ABSENT);
    }

    static Holder bad(NodeInfo n, long version, Integer... blocks) {
        return new Holder(n, new ObjectMeta(true, version, 1, List.of(blocks)));
    }

    static Problem problemOf(ReplicaVerdict v, NodeInfo n) {
        return v.repairs().stream().filter(f -> f.node().equals(n)).map(Finding::problem).findFirst().orElse(null);
    }

    @Test
    void equalReplicasNeedNothing() {
        ReplicaVerdict v = ReplicaVerdict.decide(1, RING, List.of(good(A, 7, 9), good(B, 7, 9), good(C, 7, 9), absent(D)));
        assertTrue(v.clean(), v.toString());
        assertEquals(A, v.best());
    }

    @Test
    void missingOldAndBadReplicasAreRepairedFromTheNewestGoodCopy() {
        ReplicaVerdict v = ReplicaVerdict.decide(1, RING, List.of(absent(A), good(B, 5, 3), bad(C, 9, 2, 7)));
        // C is newest but fails its checksums: never the source.
        assertEquals(B, v.best());
        assertEquals(Problem.MISSING, problemOf(v, A));
        assertNull(problemOf(v, B));
        assertEquals(Problem.BAD_BLOCKS, problemOf(v, C));
        assertTrue(v.repairs().get(1).detail().contains("[2, 7]"), v.repairs().toString());
        assertNull(v.lost());
    }

    @Test
    void olderVersionIsRepairedAndTheLineSaysSo() {
        ReplicaVerdict v = ReplicaVerdict.decide(1, RING, List.of(good(A, 7, 1), good(B, 5, 1), good(C, 7, 1)));
        assertEquals(Problem.OLD, problemOf(v, B));
        assertEquals("version 5 < 7", v.repairs().get(0).detail());
        assertEquals(1, v.repairs().size());
    }

    @Test
    void sameVersionOtherDigestFollowsTheMajority() {
        ReplicaVerdict v = ReplicaVerdict.decide(1, RING, List.of(good(A, 7, 1), good(B, 7, 2), good(C, 7, 2)));
        assertEquals(2, v.bestMeta().digest());
        assertEquals(Problem.DIGEST, problemOf(v, A));
        assertEquals(1, v.repairs().size());
    }

    @Test
    void aNewerCopyOnANodeThatIsNotAReplicaIsTheSourceAndAnExtra() {
        ReplicaVerdict v = ReplicaVerdict.decide(1, RING, List.of(good(A, 4, 1), good(B, 4, 1), good(C, 4, 1), good(D, 6, 5)));
        assertEquals(D, v.best());
        assertEquals(3, v.repairs().size());
        assertEquals(1, v.extras().size());
        assertEquals(D, v.extras().get(0).node());
    }

    @Test
    void noCopyThatVerifiesIsLostNeverRepaired() {
        ReplicaVerdict v = ReplicaVerdict.decide(1, RING, List.of(bad(A, 7, 0), bad(B, 7, 1), absent(C)));
        assertNull(v.best());
        assertNotNull(v.lost());
        assertTrue(v.repairs().isEmpty());
        assertFalse(v.clean());
        ReplicaVerdict none = ReplicaVerdict.decide(1, RING, List.of(absent(A), absent(B), absent(C)));
        assertEquals("no node has a copy", none.lost());
    }

    @Test
    void aSilentReplicaIsUnansweredNotRepaired() {
        ReplicaVerdict v = ReplicaVerdict.decide(1, RING, List.of(good(A, 3, 1), new Holder(B, null), good(C, 3, 1)));
        assertEquals(List.of(B), v.unanswered());
        assertTrue(v.repairs().isEmpty());
        assertFalse(v.clean());
    }

    @Test
    void aRepairedCopyMatchesWhenNotOlderAndSameContent() {
        ObjectMeta best = new ObjectMeta(true, 7, 4, List.of());
        assertTrue(ReplicaVerdict.matches(new ObjectMeta(true, 7, 4, List.of()), best));
        assertTrue(ReplicaVerdict.matches(new ObjectMeta(true, 8, 0, List.of()), best)); // a write raced the check
        assertFalse(ReplicaVerdict.matches(new ObjectMeta(true, 7, 5, List.of()), best));
        assertFalse(ReplicaVerdict.matches(new ObjectMeta(true, 6, 4, List.of()), best));
        assertFalse(ReplicaVerdict.matches(new ObjectMeta(true, 7, 4, List.of(3)), best));
        assertFalse(ReplicaVerdict.matches(ObjectMeta.ABSENT, best));
        assertFalse(ReplicaVerdict.matches(null, best));
    }
}
