package io.kelpie.node;

import static io.kelpie.vdi.VdiBytes.write;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.random;
import io.kelpie.cluster.Epoch;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.vdi.Vdi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nodes crash, leave and come back while a VDI is in use. */
@Timeout(120)
class MembershipChangeTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    @Test
    void crashOfAReplicaStallsWritesOnlyUntilTheNewEpoch() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(4);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            assertEquals(1, c.awaitSettled(10_000));
            c.node(0).vdis().create("disk", 64L * MiB, 0);
            Vdi v = c.node(0).vdis().open("disk");
            try {
                byte[] first = random(32 * MiB, 1);
                write(v, 0, first);
                c.kill(3);
                // Every survivor moves to epoch 2 without node 3.
                assertEquals(2, c.awaitSettled(10_000));
                for (Node n : c.running()) {
                    assertEquals(3, n.memberInfos().size());
                    assertEquals(List.of(1L, 2L), n.cluster().history().stream().map(Epoch::number).toList());
                }
                // New writes go to the replicas of epoch 2 and read back.
                byte[] second = random(32 * MiB, 2);
                write(v, 32L * MiB, second);
                v.flush().join();
                assertArrayEquals(second, read(v, 32L * MiB, second.length));
            } finally {
                v.close();
            }
            // The killed node comes back: epoch 3, and it adopts the cluster's history.
            Node back = c.restart(3);
            assertEquals(3, c.awaitSettled(10_000));
            assertEquals(c.node(0).cluster().history(), back.cluster().history());
            assertTrue(back.vdis().list().stream().anyMatch(i -> i.name().equals("disk")));
        });
    }

    @Test
    void gracefulLeaveAndFullRestartKeepTheCatalogue() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(1).format(1, false);
            c.awaitSettled(10_000);
            c.node(2).vdis().create("a", 8L * MiB, 0);
            c.node(0).vdis().create("b", 8L * MiB, 0);
            c.stop(2);
            assertEquals(2, c.awaitSettled(10_000));
            c.stop(1);
            c.stop(0);
            // Node 1 comes back alone: its log ends at epoch 2 (it saw node 2 leave, then left
            // itself), whose nodes were 0 and 1. Node 0 may know more: node 1 waits for it.
            Node alone = c.restart(1);
            assertEquals(1, alone.memberInfos().size());
            assertEquals(2, alone.epoch());
            String why = alone.cluster().ioRefusal();
            assertTrue(why != null && why.contains("waiting for node(s) " + c.address(0) + " of epoch 2"), why);
            assertEquals(List.of("a", "b"), alone.vdis().list().stream().map(i -> i.name()).toList());
            KelpieException refused = assertThrows(KelpieException.class, () -> alone.vdis().create("c", MiB, 0));
            assertEquals(Status.NO_QUORUM, refused.status());
            // Node 0 ran longest (its log has epoch 3, node 1's leave): its history is adopted, and
            // with every node of epoch 3 back, epoch 4 begins and the cluster serves.
            c.restart(0);
            assertEquals(4, c.awaitSettled(10_000));
            c.restart(2);
            long e = c.awaitSettled(10_000);
            assertEquals(5, e);
            for (Node n : c.running()) {
                assertEquals(e, n.epoch());
                assertEquals(List.of(1L, 2L, 3L, 4L, 5L), n.cluster().history().stream().map(Epoch::number).toList());
                assertEquals(List.of("a", "b"), n.vdis().list().stream().map(i -> i.name()).toList());
            }
        });
    }
}
