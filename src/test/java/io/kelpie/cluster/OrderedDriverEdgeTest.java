package io.kelpie.cluster;

import io.kelpie.cluster.ClusterListener.Standing;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OrderedDriver's hard cases: duplicate JOINs, removal and rejoin, a leader lost mid-admission, merges. */
class OrderedDriverEdgeTest {
    @TempDir
    Path root;
    private final LocalHub hub = new LocalHub();
    private final List<Harness> nodes = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Harness h : nodes) {
            h.close();
        }
    }

    private Harness harness(String id) throws Exception {
        Harness h = new Harness(root, id, 7000 + nodes.size() * 2, hub.newDriver());
        nodes.add(h);
        return h;
    }

    private Harness node(String id) throws Exception {
        return harness(id).start();
    }

    private static byte[] op(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static LocalDriver d(Harness h) {
        return (LocalDriver) h.driver;
    }

    @Test
    void aLeaderLostMidAdmissionIsReplacedAndTheJoinerGetsItsSnapshotFromTheNext() throws Exception {
        Harness a = node("a");
        a.manager.format(1, false).join();
        Harness b = node("b");
        Harness c = node("c");
        a.manager.submit(op("before")).join();
        // d's JOIN is ordered and applied everywhere, but the leader's snapshot is lost and the
        // leader dies before d asks again.
        hub.dropUnicasts(true);
        Harness d = harness("d");
        CompletableFuture<Void> joining = CompletableFuture.runAsync(() -> {
            try {
                d.start();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Harness.await("d admitted by the others", 5000, () -> b.driver.members().size() == 4);
        d(a).crash();
        Harness.await("a's leave applied", 5000, () -> b.driver.members().size() == 3);
        hub.dropUnicasts(false);
        joining.get(20, TimeUnit.SECONDS);
        Harness.await("same epoch", 5000, () -> b.manager.epochNumber() == d.manager.epochNumber()
                && c.manager.epochNumber() == d.manager.epochNumber());
        assertEquals(b.manager.history(), d.manager.history());
        assertEquals(List.of(b.info, c.info, d.info), d.driver.members());
        assertEquals(b.app.appliedCopy(), d.app.appliedCopy());
        d.manager.submit(op("after")).join();
        Harness.await("after everywhere", 5000, () -> b.app.appliedCopy().contains("after"));
        assertEquals(b.app.appliedCopy(), d.app.appliedCopy());
    }

    @Test
    void aDuplicateJoinChangesNothingButASnapshot() throws Exception {
        Harness a = node("a");
        a.manager.format(1, false).join();
        hub.dropUnicasts(true);
        Harness b = harness("b");
        CompletableFuture<Void> joining = CompletableFuture.runAsync(() -> {
            try {
                b.start();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Harness.await("b admitted once", 5000, () -> a.manager.epochNumber() == 2);
        hub.dropUnicasts(false);
        joining.get(20, TimeUnit.SECONDS);
        // b's second JOIN (after its retry) made no new epoch: one admission, one epoch.
        assertEquals(2, a.manager.epochNumber());
        assertEquals(a.manager.history(), b.manager.history());
    }

    @Test
    void aRemovedMemberRejoinsWithTheClusterStateAndNoForkedHistory() throws Exception {
        Harness a = node("a");
        Harness b = node("b");
        Harness c = node("c");
        a.manager.format(1, false).join();
        Harness.await("epoch 1", 5000, () -> c.manager.epochNumber() == 1);
        hub.pause(List.of(d(c)));
        Harness.await("c removed", 5000, () -> a.manager.epochNumber() == 2 && b.manager.epochNumber() == 2);
        a.manager.submit(op("while-c-was-away")).join();
        // c still believes in epoch 1 and its old member list; what it sent while paused was
        // held. Back, it hears a member ahead of it and rejoins.
        assertEquals(1, c.manager.epochNumber());
        hub.resume(List.of(d(c)));
        Harness.await("c back", 10_000, () -> c.manager.epochNumber() == 3 && a.manager.epochNumber() == 3
                && c.manager.ioRefusal() == null);
        assertEquals(a.manager.history(), c.manager.history());
        assertEquals(a.app.appliedCopy(), c.app.appliedCopy());
        assertEquals(List.of(1L, 2L, 3L), c.manager.history().stream().map(Epoch::number).toList());
    }

    @Test
    void twoSeparatelyRestartedNodesMergeIntoTheNewestHistory() throws Exception {
        Harness a = node("a");
        Harness b = node("b");
        a.manager.format(1, false).join();
        Harness.await("epoch 1", 5000, () -> b.manager.epochNumber() == 1);
        a.manager.submit(op("x")).join();
        a.close();
        nodes.remove(a);
        Harness.await("epoch 2 on b", 5000, () -> b.manager.epochNumber() == 2);
        b.manager.submit(op("only-b-knows")).join();
        b.close();
        nodes.remove(b);
        // a (log ends at 1) and b (log ends at 2) restart on two sides of a partition: each founds.
        Harness a2 = new Harness(root, "a", 7000, hub.newDriver());
        nodes.add(a2);
        a2.start();
        hub.partition(List.of(List.of(d(a2))));
        Harness b2 = new Harness(root, "b", 7002, hub.newDriver());
        nodes.add(b2);
        hub.partition(List.of(List.of(d(a2)), List.of(d(b2))));
        b2.start();
        assertTrue(a2.manager.ioRefusal().contains("waiting for node(s) 127.0.0.1:7002"), a2.manager.ioRefusal());
        assertNull(b2.manager.ioRefusal(), "b's last epoch had only b");
        assertEquals(3, b2.manager.epochNumber());
        b2.manager.submit(op("b-after-restart")).join(); // the recording app keeps no file: its state is this
        hub.heal();
        // a's waiting group yields to b's serving one; a takes b's history and catalogue.
        Harness.await("one cluster", 15_000, () -> a2.manager.epochNumber() == 4 && b2.manager.epochNumber() == 4
                && a2.manager.ioRefusal() == null);
        assertEquals(b2.manager.history(), a2.manager.history());
        assertEquals(List.of("b-after-restart"), a2.app.appliedCopy());
    }

    @Test
    void mergeRule() {
        String t = "cluster-1";
        // A minority yields to serving and waiting groups, never to another minority.
        assertTrue(MergeRule.yields(Standing.MINORITY, t, 5, 1, 1, Standing.SERVING, t, 6, 2, 2));
        assertTrue(MergeRule.yields(Standing.MINORITY, t, 5, 1, 1, Standing.WAITING, t, 4, 1, 2));
        assertFalse(MergeRule.yields(Standing.MINORITY, t, 5, 1, 1, Standing.MINORITY, t, 9, 3, 2));
        // Waiting yields to serving, and to a waiting group with newer history (then higher lineage).
        assertTrue(MergeRule.yields(Standing.WAITING, t, 9, 1, 1, Standing.SERVING, t, 5, 2, 2));
        assertTrue(MergeRule.yields(Standing.WAITING, t, 5, 1, 1, Standing.WAITING, t, 6, 1, 0));
        assertFalse(MergeRule.yields(Standing.WAITING, t, 6, 1, 0, Standing.WAITING, t, 5, 1, 1));
        assertTrue(MergeRule.yields(Standing.WAITING, t, 5, 1, 1, Standing.WAITING, t, 5, 1, 2));
        assertFalse(MergeRule.yields(Standing.WAITING, t, 5, 1, 2, Standing.WAITING, t, 5, 1, 1));
        // A serving formatted group never yields; another cluster's groups are ignored.
        assertFalse(MergeRule.yields(Standing.SERVING, t, 5, 2, 1, Standing.SERVING, t, 9, 5, 2));
        assertFalse(MergeRule.yields(Standing.MINORITY, t, 5, 1, 1, Standing.SERVING, "cluster-2", 9, 5, 2));
        // Unformatted groups merge into the larger, and into any formatted one.
        assertTrue(MergeRule.yields(Standing.SERVING, "", 0, 1, 1, Standing.SERVING, "", 0, 2, 0));
        assertFalse(MergeRule.yields(Standing.SERVING, "", 0, 2, 0, Standing.SERVING, "", 0, 1, 1));
        assertTrue(MergeRule.yields(Standing.SERVING, "", 0, 3, 1, Standing.SERVING, t, 1, 1, 0));
    }

    @Test
    void quorumIsAStrictMajorityOfTheLastEpoch() {
        NodeInfo a = new NodeInfo("a", "127.0.0.1", 7000, null, 1, 0);
        NodeInfo b = new NodeInfo("b", "127.0.0.1", 7002, null, 1, 0);
        NodeInfo c = new NodeInfo("c", "127.0.0.1", 7004, null, 1, 0);
        NodeInfo d = new NodeInfo("d", "127.0.0.1", 7006, null, 1, 0);
        Epoch e3 = new Epoch(3, 0, List.of(a, b, c));
        assertEquals(Standing.SERVING, Quorum.judge(e3, false, null, List.of(a, b, c), List.of(a, b)).standing());
        Quorum.Verdict one = Quorum.judge(e3, false, null, List.of(a, b, c), List.of(a));
        assertEquals(Standing.MINORITY, one.standing());
        assertEquals("no quorum: this node sees 1 of the 3 node(s) of epoch 3 (sees 127.0.0.1:7000; missing 127.0.0.1:7002,"
                + " 127.0.0.1:7004); writes and catalogue changes wait for a majority", one.refusal());
        Epoch e4 = new Epoch(4, 0, List.of(a, b, c, d));
        assertEquals(Standing.MINORITY, Quorum.judge(e4, false, null, List.of(a, b, c, d), List.of(a, b)).standing());
        // A joiner not in the last epoch does not count towards it.
        assertEquals(Standing.MINORITY, Quorum.judge(e3, false, null, List.of(a, b, c, d), List.of(a, d)).standing());
        Quorum.Verdict w = Quorum.judge(e3, true, null, List.of(a, b), List.of(a, b));
        assertEquals(Standing.WAITING, w.standing());
        assertEquals("waiting for node(s) 127.0.0.1:7004 of epoch 3; run 'kelpie cluster recover force' to go on without them",
                w.refusal());
        assertEquals(Standing.SERVING, Quorum.judge(e3, false, java.util.Set.of("a"), List.of(a, b, c), List.of(a)).standing());
    }
}
