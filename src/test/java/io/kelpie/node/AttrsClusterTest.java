package io.kelpie.node;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static io.kelpie.vdi.VdiBytes.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * VDI attributes on three nodes with 2 copies: set through one node and read through the others,
 * an exclusive create raced from every node decided once (the same winner everywhere), a
 * snapshot's attributes, and a whole-cluster shutdown and restart that keeps them all.
 */
@Timeout(180)
class AttrsClusterTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    @Test
    void setOnOneNodeReadOnAnotherExclusiveRaceAndRestart() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            c.node(0).vdis().create("vm", 8L * MiB, 0);
            byte[] blob = random(64 << 10, 7);
            c.node(0).vdis().setAttr("vm", "blob", blob, false, false);
            // Another node reads it at once: a key it has not applied yet is looked up after a barrier.
            assertArrayEquals(blob, c.node(2).vdis().getAttr("vm", "blob"));
            assertArrayEquals(blob, c.node(1).vdis().getAttr("vm", "blob"));

            int[] winners = new int[5];
            for (int round = 0; round < 5; round++) {
                String key = "leader" + round;
                CountDownLatch go = new CountDownLatch(1);
                List<CompletableFuture<Boolean>> tries = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    int node = i;
                    tries.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            go.await();
                            c.node(node).vdis().setAttr("vm", key, bytes("node" + node), true, false);
                            return true;
                        } catch (KelpieException e) {
                            assertEquals(Status.VDI_EXISTS, e.status(), e.getMessage());
                            return false;
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
                go.countDown();
                int winner = -1;
                for (int i = 0; i < 3; i++) {
                    if (tries.get(i).join()) {
                        assertEquals(-1, winner, "two exclusive creates of " + key + " succeeded");
                        winner = i;
                    }
                }
                assertEquals(true, winner >= 0, "no exclusive create of " + key + " succeeded");
                winners[round] = winner;
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(bytes("node" + winner), c.node(i).vdis().getAttr("vm", key), key + " on node " + i);
                }
            }

            c.node(1).vdis().snapshot("vm", "s1");
            c.node(2).vdis().setAttr("vm@s1", "note", bytes("frozen"), false, false);
            c.node(0).vdis().setAttr("vm", "blob", bytes("new"), false, false);
            c.node(1).vdis().setAttr("vm", "gone", bytes("x"), false, false);
            c.node(2).vdis().setAttr("vm", "gone", new byte[0], false, true);

            long epoch = c.awaitSettled(10_000);
            assertEquals(epoch, c.node(1).cluster().shutdown().join());
            c.awaitStopped(10_000);
            c.restart(0);
            c.restart(1);
            c.restart(2);
            c.awaitSettled(15_000);
            for (int i = 0; i < 3; i++) {
                var vdis = c.node(i).vdis();
                assertArrayEquals(bytes("new"), vdis.getAttr("vm", "blob"), "after the restart, node " + i);
                assertArrayEquals(blob, vdis.getAttr("vm@s1", "blob"), "the snapshot's copy, node " + i);
                assertArrayEquals(bytes("frozen"), vdis.getAttr("vm@s1", "note"));
                assertEquals(Status.NO_OBJECT, assertThrows(KelpieException.class, () -> vdis.getAttr("vm", "gone")).status());
                for (int r = 0; r < 5; r++) {
                    assertArrayEquals(bytes("node" + winners[r]), vdis.getAttr("vm", "leader" + r), "the race's winner stays");
                }
            }
            c.node(2).vdis().delete("vm@s1");
            MiniCluster.await("the snapshot's attributes are gone on node 0", 10_000, () -> {
                try {
                    c.node(0).vdis().getAttr("vm@s1", "note");
                    return false;
                } catch (KelpieException e) {
                    return e.status() == Status.NO_VDI;
                }
            });
        });
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
