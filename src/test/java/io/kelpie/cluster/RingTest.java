package io.kelpie.cluster;

import io.kelpie.common.Fnv1a;
import io.kelpie.common.ObjectIds;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RingTest {
    private static final int OBJECTS = 100_000;

    /** 50 nodes with 2, 3 or 4 units of 2048 vnodes, as disks of 256, 384 and 512 GiB would get. */
    private static List<NodeInfo> mixedNodes(int count, long seed) {
        Random r = new Random(seed);
        List<NodeInfo> nodes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int vnodes = (2 + r.nextInt(3)) * 2048;
            nodes.add(new NodeInfo("n" + i, "10.1." + (i / 250) + "." + (i % 250 + 1), 7000 + (i % 3), null, vnodes, 0));
        }
        return nodes;
    }

    private static long oid(int i) {
        return ObjectIds.dataOid(1 + i % 97, i / 97);
    }

    @Test
    void sharesFollowWeights() {
        List<NodeInfo> nodes = mixedNodes(50, 1);
        Ring ring = new Ring(nodes);
        Map<String, Integer> count = new HashMap<>();
        for (int i = 0; i < OBJECTS; i++) {
            count.merge(ring.primary(oid(i)).id(), 1, Integer::sum);
        }
        long total = nodes.stream().mapToLong(NodeInfo::vnodes).sum();
        for (NodeInfo n : nodes) {
            double ideal = (double) OBJECTS * n.vnodes() / total;
            int got = count.getOrDefault(n.id(), 0);
            assertTrue(Math.abs(got - ideal) <= 0.10 * ideal,
                    n + " with " + n.vnodes() + " vnodes holds " + got + " objects, ideal " + ideal);
        }
    }

    @Test
    void addingANodeMovesLittle() {
        List<NodeInfo> nodes = mixedNodes(50, 2);
        Ring before = new Ring(nodes);
        List<NodeInfo> grown = new ArrayList<>(nodes);
        NodeInfo added = new NodeInfo("new", "10.9.9.9", 7000, null, 3 * 2048, 0);
        grown.add(added);
        Ring after = new Ring(grown);
        long total = grown.stream().mapToLong(NodeInfo::vnodes).sum();
        double ideal = (double) added.vnodes() / total;
        int copies = 3;
        int movedPrimaries = 0;
        int movedReplicas = 0;
        for (int i = 0; i < OBJECTS; i++) {
            long oid = oid(i);
            List<NodeInfo> a = before.replicas(oid, copies);
            List<NodeInfo> b = after.replicas(oid, copies);
            if (!a.get(0).equals(b.get(0))) {
                movedPrimaries++;
                assertEquals(added, b.get(0), "a primary moved to a node other than the new one");
            }
            Set<NodeInfo> gone = new HashSet<>(a);
            gone.removeAll(b);
            movedReplicas += gone.size();
        }
        double primaryFraction = (double) movedPrimaries / OBJECTS;
        double replicaFraction = (double) movedReplicas / (OBJECTS * copies);
        assertTrue(primaryFraction > 0.5 * ideal, "the new node got almost nothing: " + primaryFraction);
        assertTrue(primaryFraction <= 1.5 * ideal, "primaries moved " + primaryFraction + ", ideal " + ideal);
        assertTrue(replicaFraction <= 1.5 * ideal, "replicas moved " + replicaFraction + ", ideal " + ideal);
    }

    @Test
    void replicasAreInDistinctZones() {
        List<NodeInfo> nodes = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            nodes.add(new NodeInfo("z" + i, "127.0.0." + (i + 1), 7000, "zone" + (i % 4), 256, 0));
        }
        Ring ring = new Ring(nodes);
        assertEquals(4, ring.zones());
        for (int i = 0; i < 5000; i++) {
            List<NodeInfo> r = ring.replicas(oid(i), 3);
            assertEquals(3, r.size());
            assertEquals(3, r.stream().map(NodeInfo::zone).distinct().count(), "zones repeat in " + r);
        }
        // More copies than zones: one per zone, never a zone twice.
        List<NodeInfo> r = ring.replicas(oid(7), 6);
        assertEquals(4, r.size());
        assertEquals(4, r.stream().map(NodeInfo::zone).distinct().count());
    }

    @Test
    void defaultZoneIsTheNodeItself() {
        NodeInfo a = new NodeInfo("a", "127.0.0.1", 7000, null, 128, 0);
        NodeInfo b = new NodeInfo("b", "127.0.0.1", 7002, "", 128, 0);
        assertEquals("a", a.zone());
        assertEquals("b", b.zone());
        assertEquals(2, new Ring(List.of(a, b)).replicas(oid(1), 3).size());
    }

    @Test
    void primaryIsFirstVnodeAtOrAfterObjectHash() {
        // Independent brute force over the vnode hashes as the facts describe them.
        List<NodeInfo> nodes = mixedNodes(5, 3).stream()
                .map(n -> new NodeInfo(n.id(), n.host(), n.port(), n.zone(), 64, 0)).toList();
        Ring ring = new Ring(nodes);
        for (int i = 0; i < 2000; i++) {
            long h = Fnv1a.objectHash(oid(i));
            NodeInfo best = null;
            long bestHash = 0;
            NodeInfo lowest = null;
            long lowestHash = 0;
            for (NodeInfo n : nodes) {
                long v = n.seed();
                for (int k = 0; k < n.vnodes(); k++) {
                    v = Fnv1a.next(v);
                    if (Long.compareUnsigned(v, h) >= 0 && (best == null || Long.compareUnsigned(v, bestHash) < 0)) {
                        best = n;
                        bestHash = v;
                    }
                    if (lowest == null || Long.compareUnsigned(v, lowestHash) < 0) {
                        lowest = n;
                        lowestHash = v;
                    }
                }
            }
            assertEquals(best != null ? best : lowest, ring.primary(oid(i)));
        }
    }

    @Test
    void placementDependsOnlyOnTheMemberList() {
        List<NodeInfo> nodes = mixedNodes(8, 4);
        Ring a = new Ring(nodes);
        Ring b = new Ring(new ArrayList<>(nodes));
        for (int i = 0; i < 1000; i++) {
            assertEquals(a.replicas(oid(i), 3), b.replicas(oid(i), 3));
        }
        NodeInfo n0 = nodes.get(0);
        assertNotEquals(n0.seed(), new NodeInfo("x", n0.host(), n0.port() + 1, null, 1, 0).seed(),
                "the port must be part of the seed");
    }

    @Test
    void gatewayOnlyNodesHoldNothing() {
        NodeInfo gw = new NodeInfo("gw", "127.0.0.1", 7100, null, 0, 0);
        NodeInfo a = new NodeInfo("a", "127.0.0.1", 7000, null, 128, 0);
        Ring ring = new Ring(List.of(gw, a));
        assertEquals(1, ring.zones());
        for (int i = 0; i < 100; i++) {
            assertEquals(List.of(a), ring.replicas(oid(i), 2));
        }
        assertTrue(new Ring(List.of()).replicas(1, 3).isEmpty());
    }

    @Test
    void defaultVnodesScaleWithCapacity() {
        assertEquals(128, NodeInfo.vnodesFor(0, 1L << 30));
        assertEquals(256, NodeInfo.vnodesFor(0, 32L << 30));
        assertEquals(2048, NodeInfo.vnodesFor(0, 256L << 30));
        assertEquals(500, NodeInfo.vnodesFor(500, 1L << 40));
    }
}
