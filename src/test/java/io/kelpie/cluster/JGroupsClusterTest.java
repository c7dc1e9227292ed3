package io.kelpie.cluster;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import java.util.concurrent.CompletionException;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kelpie.config.ClusterConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Three real JGroups members in one JVM on loopback, as three node processes would be. */
@Timeout(120)
class JGroupsClusterTest {
    @TempDir
    Path root;
    private final List<Harness> nodes = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (Harness h : nodes) {
            h.close();
        }
    }

    @Test
    void threeNodesFormOneClusterAndAgree() throws Exception {
        int[] ports = {FreePorts.pair(), FreePorts.pair(), FreePorts.pair()};
        List<InetSocketAddress> hosts = new ArrayList<>();
        for (int p : ports) {
            hosts.add(new InetSocketAddress("127.0.0.1", p + 1));
        }
        ExecutorService starter = Executors.newFixedThreadPool(3);
        List<CompletableFuture<Harness>> starting = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            JGroupsDriver driver = new JGroupsDriver("127.0.0.1", ports[i] + 1, hosts, "n" + i);
            Harness h = new Harness(root, "n" + i, ports[i], driver);
            nodes.add(h);
            // Started at the same time, as a cluster's nodes usually are.
            starting.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return h.start();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, starter));
        }
        CompletableFuture.allOf(starting.toArray(new CompletableFuture[0])).join();
        starter.shutdown();
        for (Harness h : nodes) {
            Harness.await("three members on " + h.info, 20_000, () -> h.driver.members().size() == 3);
        }
        ClusterConfig cfg = nodes.get(2).manager.format(3, false).join();
        for (Harness h : nodes) {
            Harness.await("epoch 1 on " + h.info, 10_000, () -> h.manager.epochNumber() == 1);
            assertEquals(cfg, h.manager.config());
        }
        assertEquals(nodes.get(0).manager.epoch(), nodes.get(1).manager.epoch());
        assertEquals(nodes.get(0).manager.epoch(), nodes.get(2).manager.epoch());

        // Concurrent broadcasts from all three: one order everywhere.
        List<CompletableFuture<Object>> sent = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            for (Harness h : nodes) {
                sent.add(h.manager.submit((h.info.id() + "-" + i).getBytes(StandardCharsets.UTF_8)));
            }
        }
        CompletableFuture.allOf(sent.toArray(new CompletableFuture[0])).join();
        for (Harness h : nodes) {
            Harness.await("300 events on " + h.info, 10_000, () -> h.app.appliedCopy().size() == 300);
        }
        assertEquals(nodes.get(0).app.appliedCopy(), nodes.get(1).app.appliedCopy());
        assertEquals(nodes.get(0).app.appliedCopy(), nodes.get(2).app.appliedCopy());

        // Graceful leave: epoch 2 on the two others.
        Harness left = nodes.get(2);
        left.driver.close();
        List<Harness> rest = nodes.subList(0, 2);
        for (Harness h : rest) {
            Harness.await("epoch 2 on " + h.info, 15_000, () -> h.manager.epochNumber() == 2);
            assertEquals(java.util.Set.of(nodes.get(0).info, nodes.get(1).info), java.util.Set.copyOf(h.manager.epoch().members()));
        }
        assertEquals(nodes.get(0).manager.history(), nodes.get(1).manager.history());
        // A crash (sockets closed, no goodbye): the survivor is 1 of epoch 2's 2 nodes, no majority.
        // It cannot tell a crash from a partition, so it changes nothing until told to go on.
        Harness n0 = nodes.get(0);
        ((JGroupsDriver) nodes.get(1).driver).crash();
        Harness.await("no quorum on n0", 30_000, () -> n0.manager.ioRefusal() != null);
        assertTrue(n0.manager.ioRefusal().contains("sees 1 of the 2 node(s) of epoch 2"), n0.manager.ioRefusal());
        CompletionException refused = assertThrows(CompletionException.class,
                () -> n0.manager.submit("lost".getBytes(StandardCharsets.UTF_8)).join());
        assertEquals(Status.NO_QUORUM, KelpieException.statusOf(refused));
        assertEquals(2, n0.manager.epochNumber());
        // 'cluster recover force': n0 alone is the quorum now; its leader removes n1: epoch 3.
        n0.manager.recoverForce().join();
        Harness.await("epoch 3 on n0", 30_000, () -> n0.manager.epochNumber() == 3 && n0.manager.ioRefusal() == null);
        assertEquals(List.of(nodes.get(0).info), nodes.get(0).manager.epoch().members());
        assertEquals(List.of(1L, 2L, 3L), nodes.get(0).manager.history().stream().map(Epoch::number).toList());
        assertEquals(301, nodes.get(0).manager.submit("solo".getBytes(StandardCharsets.UTF_8)).join());
    }
}
