package io.kelpie.node;

import io.kelpie.cluster.Epoch;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.vdi.Vdi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quorum: partitions and pauses, and how the cluster becomes one again. */
@Timeout(120)
class QuorumTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    private interface VdiBody {
        void run(Vdi v) throws Exception;
    }

    private static void use(Node n, String name, VdiBody body) throws Exception {
        Vdi v = n.vdis().open(name);
        try {
            body.run(v);
        } finally {
            v.close();
        }
    }

    private static List<Long> history(Node n) {
        return n.cluster().history().stream().map(Epoch::number).toList();
    }

    private static List<String> vdis(Node n) {
        return n.vdis().list().stream().map(i -> i.name()).toList();
    }

    @Test
    void aMinorityRefusesAndTheHealedClusterHasOneHistory() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false);
            assertEquals(1, c.awaitSettled(10_000));
            c.node(0).vdis().create("before", 8L * MiB, 0);
            byte[] data = random(MiB, 7);
            use(c.node(1), "before", v -> {
                write(v, 0, data);
                v.flush().join();
            });

            c.partition(new int[] {0}, new int[] {1, 2});
            Node lone = c.node(0);
            MiniCluster.await("the lone node knows it has no quorum", 10_000, () -> lone.cluster().ioRefusal() != null);
            String why = lone.cluster().ioRefusal();
            assertTrue(why.startsWith("no quorum: this node sees 1 of the 3 node(s) of epoch 1"), why);
            assertTrue(why.contains(c.address(1)) && why.contains(c.address(2)), why);
            assertEquals(why, lone.cluster().placement().ioRefusal());
            KelpieException e = assertThrows(KelpieException.class, () -> lone.vdis().create("lost", MiB, 0));
            assertEquals(Status.NO_QUORUM, e.status());
            // The majority moves on without it, and keeps serving.
            assertEquals(2, c.awaitSettled(10_000, List.of(c.node(1), c.node(2))));
            assertEquals(1, lone.epoch(), "a minority makes no epoch");
            c.node(2).vdis().create("during", 8L * MiB, 2); // two zones left

            c.heal();
            long e3 = c.awaitSettled(15_000);
            assertEquals(3, e3);
            for (Node n : c.running()) {
                assertEquals(List.of(1L, 2L, 3L), history(n));
                assertEquals(c.node(1).cluster().history(), n.cluster().history());
                assertEquals(List.of("before", "during"), vdis(n));
                assertNull(n.cluster().ioRefusal());
            }
            lone.vdis().create("after", MiB, 0);
            assertEquals(List.of("after", "before", "during"), vdis(c.node(1)));
            use(lone, "before", v -> {
                assertArrayEquals(data, read(v, 0, data.length));
            });
        });
    }

    @Test
    void pausedMajorityComesBackWithoutAnEpochChange() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false);
            assertEquals(1, c.awaitSettled(10_000));
            c.pause(1, 2);
            Node lone = c.node(0);
            MiniCluster.await("the lone node has no quorum", 10_000, () -> lone.cluster().ioRefusal() != null);
            assertTrue(lone.cluster().ioRefusal().contains("sees 1 of the 3"), lone.cluster().ioRefusal());
            assertThrows(KelpieException.class, () -> lone.vdis().create("x", MiB, 0));
            assertEquals(3, lone.memberInfos().size(), "a minority removes nobody");
            c.resume(1, 2);
            // Nobody moved on: the members confirm each other again and epoch 1 goes on.
            assertEquals(1, c.awaitSettled(10_000));
            lone.vdis().create("x", MiB, 0);
            MiniCluster.await("x everywhere", 5000, () -> c.running().stream().allMatch(n -> vdis(n).equals(List.of("x"))));
        });
    }

    @Test
    void pausedMinorityIsRemovedAndRejoinsTakingTheClusterState() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false);
            c.awaitSettled(10_000);
            c.pause(2);
            assertEquals(2, c.awaitSettled(10_000, List.of(c.node(0), c.node(1))));
            c.node(1).vdis().create("while-away", MiB, 2);
            c.resume(2);
            assertEquals(3, c.awaitSettled(15_000));
            assertEquals(c.node(0).cluster().history(), c.node(2).cluster().history());
            assertEquals(List.of("while-away"), vdis(c.node(2)));
        });
    }

    @Test
    void evenSplitHasNoServingSideAndHealsWithoutAnEpochChange() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(4);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            assertEquals(1, c.awaitSettled(10_000));
            c.partition(new int[] {0, 1}, new int[] {2, 3});
            MiniCluster.await("no side serves", 10_000, () -> c.running().stream().allMatch(n -> n.cluster().ioRefusal() != null));
            for (Node n : c.running()) {
                assertTrue(n.cluster().ioRefusal().contains("sees 2 of the 4"), n.cluster().ioRefusal());
                assertEquals(1, n.epoch());
            }
            c.heal();
            assertEquals(1, c.awaitSettled(10_000));
        });
    }

    @Test
    void wholeClusterShutdownRestartWaitsForEveryNodeAndRecoverForceGoesOn() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.node(0).vdis().create("disk", 8L * MiB, 0);
            byte[] data = random(2 * MiB, 3);
            use(c.node(0), "disk", v -> {
                write(v, 0, data);
                v.flush().join();
            });
            long epoch = c.awaitSettled(10_000);
            assertEquals(epoch, c.node(1).cluster().shutdown().join());
            c.awaitStopped(10_000);
            // Nobody moved to a new epoch while stopping: every log ends at the same one.
            c.restart(2);
            Node first = c.node(2);
            assertEquals(epoch, first.epoch());
            assertTrue(first.cluster().ioRefusal().contains("waiting for node(s) " + c.address(0) + ", " + c.address(1)),
                    first.cluster().ioRefusal());
            c.restart(0);
            MiniCluster.await("still waiting for node 1", 5000, () -> c.node(0).cluster().ioRefusal() != null
                    && c.node(0).cluster().ioRefusal().contains("waiting for node(s) " + c.address(1)));
            c.restart(1);
            assertEquals(epoch + 1, c.awaitSettled(15_000));
            use(c.node(1), "disk", v -> {
                assertArrayEquals(data, read(v, 0, data.length));
            });

            // Node 2 will never return: after the next shutdown, recovery is forced without it.
            c.node(0).cluster().shutdown().join();
            c.awaitStopped(10_000);
            c.restart(0);
            c.restart(1);
            MiniCluster.await("waiting for node 2", 10_000, () -> c.node(1).cluster().ioRefusal() != null
                    && c.node(1).cluster().ioRefusal().contains("waiting for node(s) " + c.address(2)));
            String done = c.node(1).cluster().recoverForce().join();
            assertTrue(done.contains("without " + c.address(2)), done);
            long forced = c.awaitSettled(10_000);
            assertEquals(epoch + 2, forced);
            assertEquals(2, c.node(0).cluster().epoch().members().size());
            use(c.node(0), "disk", v -> {
                assertArrayEquals(data, read(v, 0, data.length));
            });
        });
    }
}
