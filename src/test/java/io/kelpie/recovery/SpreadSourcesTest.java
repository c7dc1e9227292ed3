package io.kelpie.recovery;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.recovery.RecoveryPlan.Task;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Background recovery shares its fetches among the equal holders instead of asking the first of each. */
class SpreadSourcesTest {
    private static NodeInfo node(String id, int port) {
        return new NodeInfo(id, "127.0.0.1", port, id, 128, 1L << 40);
    }

    @Test
    void consecutiveTasksStartAtEachHolderInTurn() {
        NodeInfo a = node("a", 7000);
        NodeInfo b = node("b", 7100);
        NodeInfo c = node("c", 7200);
        Map<String, Integer> first = new HashMap<>();
        for (int n = 0; n < 30; n++) {
            Task t = RecoveryWorker.spread(new Task(n, 5, List.of(a, b, c)), n);
            assertEquals(3, t.sources().stream().distinct().count(), "every holder stays a candidate");
            assertEquals(5, t.version());
            first.merge(t.sources().get(0).id(), 1, Integer::sum);
        }
        assertEquals(Map.of("a", 10, "b", 10, "c", 10), first);
        Task one = new Task(1, 5, List.of(b));
        assertEquals(one, RecoveryWorker.spread(one, 7));
    }
}
