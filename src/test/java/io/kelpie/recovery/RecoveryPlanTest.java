package io.kelpie.recovery;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import io.kelpie.recovery.RecoveryPlan.Listing;
import io.kelpie.recovery.RecoveryPlan.Task;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which objects a pass fetches, from whom, and which copies it may delete. */
class RecoveryPlanTest {
    private static final NodeInfo A = node("a", 7000);
    private static final NodeInfo B = node("b", 7100);
    private static final NodeInfo C = node("c", 7200);
    private static final NodeInfo D = node("d", 7300);
    private static final Ring RING = new Ring(List.of(A, B, C, D));

    private static NodeInfo node(String id, int port) {
        return new NodeInfo(id, "127.0.0.1", port, id, 128, 1L << 40);
    }

    /** Object ids (of VDI 1) whose 2 replicas include {@code in} and not {@code out}. */
    private static long oidHeldBy(NodeInfo in, NodeInfo out, int skip) {
        int seen = 0;
        for (long i = 0; ; i++) {
            long oid = (1L << 32) | i;
            List<NodeInfo> r = RING.replicas(oid, 2);
            if (r.contains(in) && (out == null || !r.contains(out)) && seen++ == skip) {
                return oid;
            }
        }
    }

    private static int copies(long oid) {
        return (int) (oid >>> 32) == 1 ? 2 : 0; // VDI 1 has 2 copies; any other VDI is unknown
    }

    @Test
    void fetchesWhatItLacksOrHoldsOlderFromTheNewestHolders() {
        long missing = oidHeldBy(A, null, 0);
        long behind = oidHeldBy(A, null, 1);
        long current = oidHeldBy(A, null, 2);
        Map<Long, Long> local = new HashMap<>(Map.of(behind, 3L, current, 5L));
        List<Listing> others = List.of(
                new Listing(B, Map.of(missing, 2L, behind, 4L, current, 5L)),
                new Listing(C, Map.of(missing, 7L, behind, 9L)),
                new Listing(D, Map.of(missing, 7L, behind, 9L)));
        RecoveryPlan plan = RecoveryPlan.compute(A, RING, local, others, RecoveryPlanTest::copies);
        assertEquals(2, plan.tasks().size(), plan.toString());
        Task m = plan.tasks().stream().filter(t -> t.oid() == missing).findFirst().orElseThrow();
        assertEquals(7, m.version());
        assertEquals(List.of(C, D), m.sources(), "only the holders of the newest version, in ring order");
        Task b = plan.tasks().stream().filter(t -> t.oid() == behind).findFirst().orElseThrow();
        assertEquals(9, b.version());
        assertFalse(b.sources().contains(B), "B's version 4 is older than the newest");
        assertEquals(List.of(current), plan.current());
    }

    @Test
    void skipsObjectsOfUnknownVdisAndObjectsItDoesNotOwn() {
        long orphan = (2L << 32) | 5; // VDI 2: not in the catalogue
        long notMine = oidHeldBy(B, A, 0);
        Map<Long, Long> local = new HashMap<>(Map.of(orphan, 1L, notMine, 3L));
        List<Listing> others = List.of(new Listing(B, Map.of(notMine, 3L, orphan, 8L)));
        RecoveryPlan plan = RecoveryPlan.compute(A, RING, local, others, RecoveryPlanTest::copies);
        assertTrue(plan.tasks().isEmpty(), plan.toString());
        assertEquals(1, plan.orphans());
        assertEquals(List.of(notMine), plan.notOwned());
    }

    @Test
    void aCopyIsDeletableOnlyWhenEveryCurrentReplicaHoldsItAtLeastAsNew() {
        long oid = oidHeldBy(B, A, 0);
        List<NodeInfo> replicas = RING.replicas(oid, 2);
        Map<Long, Long> local = Map.of(oid, 6L);
        Map<String, Map<Long, Long>> both = Map.of(replicas.get(0).id(), Map.of(oid, 6L), replicas.get(1).id(), Map.of(oid, 7L));
        assertEquals(List.of(oid), RecoveryPlan.deletable(RING, List.of(oid), local, both, RecoveryPlanTest::copies));
        Map<String, Map<Long, Long>> oneBehind = Map.of(replicas.get(0).id(), Map.of(oid, 6L), replicas.get(1).id(), Map.of(oid, 5L));
        assertTrue(RecoveryPlan.deletable(RING, List.of(oid), local, oneBehind, RecoveryPlanTest::copies).isEmpty());
        Map<String, Map<Long, Long>> oneSilent = Map.of(replicas.get(0).id(), Map.of(oid, 6L));
        assertTrue(RecoveryPlan.deletable(RING, List.of(oid), local, oneSilent, RecoveryPlanTest::copies).isEmpty());
    }

    @Test
    void theThrottleSpacesReservationsByTheRate() {
        RecoveryThrottle unlimited = new RecoveryThrottle(0);
        assertEquals(0, unlimited.reserve(1L << 30));
        RecoveryThrottle t = new RecoveryThrottle(1 << 20); // 1 MiB/s
        t.reserve(4 << 20);
        long wait = t.reserve(1 << 20);
        assertTrue(wait > 3_500_000_000L && wait <= 4_000_000_000L, "second reservation waits for the first 4 MiB: " + wait);
    }
}
