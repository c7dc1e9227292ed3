package io.kelpie.node;

import static io.kelpie.vdi.VdiBytes.write;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.random;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.vdi.Inode;
import io.kelpie.common.ObjectIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several in-process nodes: data written through one node is stored on its replicas and read back through any. */
@Timeout(120)
class ReplicationTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    /** Every allocated object of a VDI, plus its inode: on exactly the nodes the ring names. */
    private static void assertPlacement(MiniCluster c, Node via, String vdi, int copies) throws Exception {
        Inode in = via.vdis().lookup(vdi);
        List<Long> oids = new ArrayList<>();
        oids.add(in.inodeOid());
        for (Map.Entry<Long, Integer> e : via.vdis().allocatedObjects(vdi).entrySet()) {
            oids.add(ObjectIds.dataOid(e.getValue(), e.getKey()));
        }
        assertTrue(oids.size() > 1, "no data objects allocated");
        for (long oid : oids) {
            List<String> expected = via.holders(oid, copies);
            assertEquals(copies, expected.size());
            assertEquals(new HashSet<>(expected), new HashSet<>(c.holdersOnDisk(oid)), "holders of " + ObjectIds.toHex(oid));
        }
    }

    @Test
    void threeCopiesOnThreeNodes() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            assertEquals(0, c.awaitSettled(10_000));
            c.node(0).format(3, false);
            assertEquals(1, c.awaitSettled(10_000));
            c.node(1).vdis().create("disk", 64L * MiB, 0);
            for (Node n : c.running()) {
                assertEquals(3, n.vdis().lookup("disk").copies(), "catalogue on " + n.selfInfo());
            }
            byte[] data = random(10 * MiB, 1);
            write(c.node(0).vdis(), "disk", 3L * MiB, data);
            assertArrayEquals(data, read(c.node(1).vdis(), "disk", 3L * MiB, data.length));
            assertArrayEquals(data, read(c.node(2).vdis(), "disk", 3L * MiB, data.length));
            assertPlacement(c, c.node(2), "disk", 3);
        });
    }

    @Test
    void twoCopiesOnFourNodesAndALateJoiner() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(4);
            c.awaitSettled(10_000);
            c.node(3).format(2, false);
            c.awaitSettled(10_000);
            c.node(2).vdis().create("disk", 128L * MiB, 0);
            byte[] data = random(40 * MiB, 2);
            write(c.node(0).vdis(), "disk", 0, data);
            for (Node n : c.running()) {
                assertArrayEquals(data, read(n.vdis(), "disk", 0, data.length), "read through " + n.selfInfo());
            }
            assertPlacement(c, c.node(1), "disk", 2);
            // Per-VDI copies override the cluster default.
            c.node(1).vdis().create("triple", 16L * MiB, 3);
            write(c.node(3).vdis(), "triple", MiB, random(5 * MiB, 3));
            assertPlacement(c, c.node(0), "triple", 3);

            // A node joining later learns the catalogue and the epoch history.
            Node late = c.add(null, 0);
            assertEquals(2, c.awaitSettled(10_000));
            assertEquals(Set.of("disk", "triple"), Set.copyOf(late.vdis().list().stream().map(Inode::name).toList()));
            assertEquals(c.node(0).cluster().history(), late.cluster().history());
        });
    }

    @Test
    void racingCreatesHaveExactlyOneWinner() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(1, false);
            c.awaitSettled(10_000);
            for (int round = 0; round < 5; round++) {
                String name = "race" + round;
                CyclicBarrier go = new CyclicBarrier(3);
                List<CompletableFuture<Inode>> attempts = new ArrayList<>();
                for (Node n : c.running()) {
                    attempts.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            go.await();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        return n.vdis().create(name, MiB, 0);
                    }));
                }
                int won = 0;
                for (CompletableFuture<Inode> f : attempts) {
                    try {
                        f.join();
                        won++;
                    } catch (java.util.concurrent.CompletionException e) {
                        assertEquals(Status.VDI_EXISTS, KelpieException.statusOf(e));
                        assertTrue(KelpieException.messageOf(e).contains("already exists"), KelpieException.messageOf(e));
                    }
                }
                assertEquals(1, won, "winners of " + name);
                int vid = c.node(0).vdis().lookup(name).vdiId();
                for (Node n : c.running()) {
                    // an ordered op returns once applied here; the others apply it in the same order, soon
                    MiniCluster.await(name + " known everywhere", 5_000, () -> n.vdis().find(name).vdiId() == vid);
                }
            }
            // Delete on one node, gone everywhere; the name can be created again.
            c.node(2).vdis().delete("race0");
            for (Node n : c.running()) {
                MiniCluster.await("race0 gone everywhere", 5_000, () -> {
                    try {
                        n.vdis().lookup("race0");
                        return false;
                    } catch (KelpieException e) {
                        return e.status() == Status.NO_VDI;
                    }
                });
            }
            c.node(1).vdis().create("race0", 2L * MiB, 0);
            c.node(0).vdis().resize("race0", 4L * MiB);
            for (Node n : c.running()) {
                MiniCluster.await("race0 resized on every node", 5_000, () -> n.vdis().lookup("race0").size() == 4L * MiB);
            }
        });
    }

    @Test
    void notEnoughZonesIsRefused() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.add("rack1", 0);
            c.add("rack1", 0);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000); // node 1 must have applied the format too
            KelpieException e = assertThrows(KelpieException.class, () -> c.node(1).vdis().create("disk", 8L * MiB, 0));
            assertEquals(Status.NOT_ENOUGH_ZONES, e.status());
            assertTrue(e.getMessage().contains("only 1 zone"), e.getMessage());
            for (Node n : c.running()) {
                // the create's undo is ordered too: the other node applies it a moment later
                MiniCluster.await("a refused create left a VDI behind on " + n.selfInfo(), 10_000,
                        () -> n.vdis().list().isEmpty());
            }
            // One copy fits in one zone.
            c.node(0).vdis().create("single", 8L * MiB, 1);
            write(c.node(1).vdis(), "single", 0, random(MiB, 4));
            assertPlacement(c, c.node(0), "single", 1);
        });
    }
}
