package io.kelpie.node;

import static io.kelpie.vdi.VdiBytes.write;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.random;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.vdi.Vdi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One node at a time may have a VDI open: each node caches the VDI's allocation table, so a
 * second writer elsewhere would miss allocations and re-create (wipe) objects.
 */
@Timeout(120)
class VdiLockTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    private static MiniCluster formatted(MiniCluster c, int nodes) throws Exception {
        c.start(nodes);
        c.awaitSettled(10_000);
        c.node(0).format(Math.min(2, nodes), false);
        c.awaitSettled(10_000);
        c.node(0).vdis().create("vm1", 64L * MiB, 0);
        return c;
    }

    /** Refused at once: without the grace in which an open waits for the holder to let go. */
    private static KelpieException refused(Node n, String vdi) {
        n.vdis().releaseGrace(0);
        return assertThrows(KelpieException.class, () -> n.vdis().open(vdi).close());
    }

    @Test
    void secondNodeIsRefusedUntilTheFirstCloses() throws Exception {
        new MiniCluster(root, false).run(c -> {
            formatted(c, 3);
            Node a = c.node(0);
            Node b = c.node(1);
            byte[] first = random(6 * MiB, 1);
            Vdi onA = a.vdis().open("vm1");
            Vdi again = a.vdis().open("vm1");
            assertSame(onA, again, "opens on one node share the handle");
            write(onA, MiB, first);

            KelpieException e = refused(b, "vm1");
            assertEquals(Status.VDI_LOCKED, e.status());
            assertEquals("VDI 'vm1' is in use on node " + a.selfInfo().address()
                    + "; use that node or disconnect its clients", e.getMessage());
            assertEquals(Status.VDI_LOCKED, refused(c.node(2), "vm1").status());
            KelpieException del = assertThrows(KelpieException.class, () -> b.vdis().delete("vm1"));
            assertEquals(Status.VDI_LOCKED, del.status());

            again.close();
            assertEquals(Status.VDI_LOCKED, refused(b, "vm1").status(), "one reference is still open on A");
            onA.close();
            int vid = a.vdis().lookup("vm1").vdiId();
            assertNull(a.vdis().lockHolder(vid), "closed, but still locked");
            for (Node n : c.running()) {
                // Others apply the release in the same order, a moment later.
                MiniCluster.await("the release reaches " + n.selfInfo(), 10_000, () -> n.vdis().lockHolder(vid) == null);
            }

            // B sees what A wrote, and its own writes (into objects A allocated and new ones) keep A's data.
            Vdi onB = b.vdis().open("vm1");
            assertArrayEquals(first, read(onB, MiB, first.length));
            byte[] second = random(MiB, 2);
            write(onB, 2L * MiB, second);
            byte[] fresh = random(MiB, 3);
            write(onB, 40L * MiB, fresh);
            assertEquals(Status.VDI_LOCKED, refused(a, "vm1").status());
            onB.close();

            byte[] expected = first.clone();
            System.arraycopy(second, 0, expected, MiB, second.length);
            Vdi back = a.vdis().open("vm1");
            try {
                assertArrayEquals(expected, read(back, MiB, expected.length));
                assertArrayEquals(fresh, read(back, 40L * MiB, fresh.length));
            } finally {
                back.close();
            }
        });
    }

    @Test
    void aCrashedHoldersLockGoesWithItsEpoch() throws Exception {
        new MiniCluster(root, false).run(c -> {
            formatted(c, 3);
            byte[] data = random(2 * MiB, 4);
            Vdi onA = c.node(0).vdis().open("vm1");
            write(onA, 0, data);
            assertEquals(Status.VDI_LOCKED, refused(c.node(1), "vm1").status());
            long before = c.node(1).epoch();
            c.kill(0);
            MiniCluster.await("B sees the crash's epoch", 10_000, () -> c.node(1).epoch() > before);
            c.awaitSettled(10_000);
            Vdi onB = c.node(1).vdis().open("vm1");
            try {
                assertArrayEquals(data, read(onB, 0, data.length));
                // A node joining now learns that B holds it.
                Node d = c.add(null, 0);
                c.awaitSettled(10_000);
                assertEquals(Status.VDI_LOCKED, refused(d, "vm1").status());
                // A restarted node holds no lock of its own, and sees B's.
                Node a = c.restart(0);
                c.awaitSettled(10_000);
                assertEquals(Status.VDI_LOCKED, refused(a, "vm1").status());
            } finally {
                onB.close();
            }
            Node a = c.node(0);
            MiniCluster.await("the release reaches the restarted node", 10_000,
                    () -> a.vdis().lockHolder(a.vdis().lookup("vm1").vdiId()) == null);
        });
    }

    @Test
    void racingOpensOnTwoNodesHaveOneWinner() throws Exception {
        new MiniCluster(root, false).run(c -> {
            formatted(c, 2);
            c.running().forEach(n -> n.vdis().releaseGrace(0)); // the loser is refused, not kept waiting
            for (int round = 0; round < 10; round++) {
                CyclicBarrier start = new CyclicBarrier(2);
                List<CompletableFuture<Vdi>> opens = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    Node n = c.node(i);
                    opens.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            start.await();
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                        return n.vdis().open("vm1");
                    }));
                }
                List<Vdi> won = new ArrayList<>();
                int locked = 0;
                for (CompletableFuture<Vdi> f : opens) {
                    try {
                        won.add(f.join());
                    } catch (java.util.concurrent.CompletionException e) {
                        assertEquals(Status.VDI_LOCKED, KelpieException.statusOf(e.getCause()), e.toString());
                        locked++;
                    }
                }
                assertEquals(1, won.size(), "round " + round);
                assertEquals(1, locked, "round " + round);
                won.get(0).close();
            }
        });
    }

    /**
     * A client that moves from one node to another (nbdcopy, a migrating VM) finds the VDI still
     * held by the first node until its unlock is ordered: the open waits for that, not refuses.
     */
    @Test
    void anOpenWaitsForTheHolderToLetGo() throws Exception {
        new MiniCluster(root, false).run(c -> {
            formatted(c, 2);
            Node a = c.node(0);
            Node b = c.node(1);
            byte[] data = random(5 * MiB, 4);
            Vdi onA = a.vdis().open("vm1");
            write(onA, 3L * MiB, data);
            b.vdis().releaseGrace(60_000);
            CompletableFuture<Thread> opener = new CompletableFuture<>();
            CompletableFuture<Vdi> onB = CompletableFuture.supplyAsync(() -> {
                opener.complete(Thread.currentThread());
                return b.vdis().open("vm1");
            });
            Thread t = opener.get();
            MiniCluster.await("node 1's open waits", 10_000, () -> t.getState() == Thread.State.TIMED_WAITING
                    && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitFree")));
            assertTrue(!onB.isDone(), "opened while node 0 holds it");
            onA.close();
            Vdi v = onB.get(10, java.util.concurrent.TimeUnit.SECONDS);
            try {
                assertArrayEquals(data, read(v, 3L * MiB, data.length));
                assertEquals(Status.VDI_LOCKED, refused(a, "vm1").status());
            } finally {
                v.close();
            }
        });
    }

    @Test
    void aLoneNodeOpensAsBefore() throws Exception {
        new MiniCluster(root, false).run(c -> {
            formatted(c, 1);
            Vdi one = c.node(0).vdis().open("vm1");
            Vdi two = c.node(0).vdis().open("vm1");
            assertSame(one, two);
            byte[] data = random(MiB, 5);
            write(one, 0, data);
            two.close();
            one.close();
            Vdi three = c.node(0).vdis().open("vm1");
            try {
                assertArrayEquals(data, read(three, 0, data.length));
            } finally {
                three.close();
            }
        });
    }
}
