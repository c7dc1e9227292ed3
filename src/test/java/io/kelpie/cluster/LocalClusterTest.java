package io.kelpie.cluster;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalClusterTest {
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

    private Harness node(String id) throws Exception {
        Harness h = new Harness(root, id, 7000 + nodes.size() * 2, hub.newDriver());
        nodes.add(h);
        return h.start();
    }

    private static byte[] op(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void membersAgreeOnEpochsAndEventOrder() throws Exception {
        Harness a = node("a");
        Harness b = node("b");
        Harness c = node("c");
        for (Harness h : List.of(a, b, c)) {
            Harness.await("three members on " + h.info, 5000, () -> h.driver.members().size() == 3);
            assertNull(h.manager.config(), "unformatted until format");
            assertEquals(0, h.manager.epochNumber());
        }
        ClusterConfig cfg = b.manager.format(2, false).join();
        for (Harness h : List.of(a, b, c)) {
            Harness.await("format applied on " + h.info, 5000, () -> h.manager.epochNumber() == 1);
            assertEquals(cfg, h.manager.config());
            assertEquals(cfg, h.dir.readConfig());
            assertEquals(List.of(a.info, b.info, c.info), h.manager.epoch().members());
        }
        // A second format without force is refused, on every node alike.
        CompletionException again = assertThrows(CompletionException.class, () -> c.manager.format(3, false).join());
        assertEquals(Status.ALREADY_FORMATTED, KelpieException.statusOf(again));

        List<CompletableFuture<Object>> sent = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            for (Harness h : List.of(a, b, c)) {
                sent.add(h.manager.submit(op(h.info.id() + i)));
            }
        }
        CompletableFuture.allOf(sent.toArray(new CompletableFuture[0])).join();
        for (Harness h : List.of(a, b, c)) {
            Harness.await("150 ops on " + h.info, 5000, () -> h.app.appliedCopy().size() == 150);
        }
        assertEquals(a.app.appliedCopy(), b.app.appliedCopy());
        assertEquals(a.app.appliedCopy(), c.app.appliedCopy());

        // A failing op fails for its sender, the same way everywhere.
        CompletionException failed = assertThrows(CompletionException.class, () -> a.manager.submit(op("fail-1")).join());
        assertTrue(KelpieException.messageOf(failed).contains("refused fail-1"));

        // A late joiner adopts config, epochs and application state.
        Harness d = node("d");
        for (Harness h : List.of(a, b, c, d)) {
            Harness.await("epoch 2 on " + h.info, 5000, () -> h.manager.epochNumber() == 2);
        }
        assertEquals(cfg.clusterId(), d.manager.config().clusterId());
        assertEquals(a.app.appliedCopy(), d.app.appliedCopy());
        assertEquals(a.manager.history(), d.manager.history());
        d.manager.submit(op("after-d")).join();
        Harness.await("op after d", 5000, () -> a.app.appliedCopy().size() == 151);
        assertEquals(a.app.appliedCopy(), d.app.appliedCopy());

        // Graceful leave, then a crash: one new epoch each, everywhere.
        c.driver.close();
        for (Harness h : List.of(a, b, d)) {
            Harness.await("epoch 3 on " + h.info, 5000, () -> h.manager.epochNumber() == 3);
            assertEquals(List.of(a.info, b.info, d.info), h.manager.epoch().members());
        }
        ((LocalDriver) a.driver).crash();
        for (Harness h : List.of(b, d)) {
            Harness.await("epoch 4 on " + h.info, 5000, () -> h.manager.epochNumber() == 4);
            assertEquals(List.of(b.info, d.info), h.manager.epoch().members());
            assertEquals(List.of(1L, 2L, 3L, 4L), h.manager.history().stream().map(Epoch::number).toList());
        }
        assertEquals(b.manager.history(), d.manager.history());
    }

    @Test
    void nodeOfAnotherClusterIsRefused() throws Exception {
        Harness a = node("a");
        a.manager.format(1, false).join();
        // Node "x" was formatted into a cluster of its own before.
        LocalHub other = new LocalHub();
        Harness x = new Harness(root, "x", 7100, other.newDriver());
        nodes.add(x);
        x.start();
        x.manager.format(1, false).join();
        x.close();
        nodes.remove(x);
        Harness x2 = new Harness(root, "x", 7100, hub.newDriver());
        nodes.add(x2);
        KelpieException e = assertThrows(KelpieException.class, x2::start);
        assertEquals(Status.CLUSTER_MISMATCH, e.status());
        assertTrue(e.getMessage().contains("belongs to cluster"), e.getMessage());
        assertEquals(List.of(a.info), a.driver.members());
        assertEquals(1, a.manager.epochNumber());
    }

    @Test
    void restartedFounderStartsANewEpochFromItsLog() throws Exception {
        Harness a = node("a");
        a.manager.format(1, false).join();
        Harness b = node("b");
        Harness.await("epoch 2", 5000, () -> a.manager.epochNumber() == 2);
        b.close();
        nodes.remove(b);
        a.close();
        nodes.remove(a);
        Harness.await("hub empty", 5000, () -> hub.size() == 0);
        Harness a2 = new Harness(root, "a", 7000, hub.newDriver());
        nodes.add(a2);
        a2.start();
        // Epoch 3 was b leaving; the restart makes 4.
        assertEquals(4, a2.manager.epochNumber());
        assertEquals(List.of(a2.info), a2.manager.epoch().members());
        Harness b2 = new Harness(root, "b", 7002, hub.newDriver());
        nodes.add(b2);
        b2.start();
        Harness.await("epoch 5 on both", 5000, () -> a2.manager.epochNumber() == 5 && b2.manager.epochNumber() == 5);
    }

    @Test
    void aLostSnapshotIsAskedForAgain() throws Exception {
        Harness a = node("a");
        a.manager.format(1, false).join();
        a.manager.submit(op("before")).join();
        hub.dropUnicasts(true);
        Harness b = new Harness(root, "b", 7002, hub.newDriver());
        nodes.add(b);
        CompletableFuture<Void> joining = CompletableFuture.runAsync(() -> {
            try {
                b.start();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(1000);
        assertTrue(!joining.isDone(), "joined without a snapshot");
        hub.dropUnicasts(false);
        joining.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(a.app.appliedCopy(), b.app.appliedCopy());
        Harness.await("same epoch", 5000, () -> a.manager.epochNumber() == b.manager.epochNumber());
        assertEquals(a.manager.history(), b.manager.history());
        assertEquals(List.of(a.info, b.info), b.driver.members());
    }
}
