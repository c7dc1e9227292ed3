package io.kelpie.node;

import io.kelpie.common.ObjectIds;
import io.kelpie.vdi.CatalogueOp;
import io.kelpie.vdi.CrashPoint;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node that asked for a new VDI (create, snapshot, clone, rollback) or a delete dies right
 * after the catalogue change was ordered, before it wrote the new inode object or reclaimed
 * anything: the VDI is opened on another node and reads what it was given, deleting its parent
 * snapshot first keeps what it reads, writes then work, and interrupted reclaims finish by
 * themselves. Three nodes, two copies; node 1 is the one that dies.
 */
@Timeout(180)
class LineageCrashTest {
    private static final int MiB = 1 << 20;
    private static final int SIZE = 16 * MiB;

    @TempDir
    Path root;

    /** Holds node 1 at the crash point of one op kind until the test has killed it; then it never goes on. */
    private static final class Halt implements CrashPoint {
        final CatalogueOp.Kind kind;
        final CountDownLatch reached = new CountDownLatch(1);
        final CompletableFuture<Void> killed = new CompletableFuture<>();

        Halt(CatalogueOp.Kind kind) {
            this.kind = kind;
        }

        @Override
        public void afterOrdered(CatalogueOp.Kind k, Inode inode) {
            if (k == kind) {
                reached.countDown();
                killed.join();
                throw new IllegalStateException("node killed at the crash point (test)");
            }
        }
    }

    /** Runs {@code op} on node 1 with a halt after {@code kind}, kills node 1 there, and waits for the others to settle. */
    private static void crashDuring(MiniCluster c, CatalogueOp.Kind kind, java.util.function.Consumer<VdiManager> op) throws Exception {
        crashDuring(c, 1, kind, op);
        c.awaitSettled(20_000);
    }

    private static void crashDuring(MiniCluster c, int node, CatalogueOp.Kind kind, java.util.function.Consumer<VdiManager> op)
            throws Exception {
        VdiManager v1 = c.node(node).vdis();
        Halt halt = new Halt(kind);
        v1.crashPointForTests(halt);
        CompletableFuture<Void> running = CompletableFuture.runAsync(() -> op.accept(v1));
        assertTrue(halt.reached.await(30, TimeUnit.SECONDS), kind + " reached its crash point");
        c.kill(node);
        halt.killed.complete(null);
        assertThrows(ExecutionException.class, () -> running.get(30, TimeUnit.SECONDS));
    }

    private static MiniCluster started(MiniCluster c) throws Exception {
        c.start(3);
        c.awaitSettled(10_000);
        c.node(0).format(2, false);
        c.awaitSettled(10_000);
        return c;
    }

    private static byte[] with(byte[] base, int offset, byte[] data) {
        byte[] out = base.clone();
        System.arraycopy(data, 0, out, offset, data.length);
        return out;
    }

    @Test
    void cloneWhoseWriterDiedReadsItsParentEvenAfterTheParentIsDeleted() throws Exception {
        new MiniCluster(root, false).run(c -> {
            started(c);
            VdiManager a = c.node(0).vdis();
            a.create("vm", SIZE, 0);
            byte[] s1 = with(new byte[SIZE], 0, random(12 * MiB, 1));
            write(a, "vm", 0, s1);
            a.snapshot("vm", "s1");
            write(a, "vm", 4L * MiB, random(2 * MiB, 2)); // the VDI goes its own way: copy-on-write

            crashDuring(c, CatalogueOp.Kind.CLONE, v -> v.cloneOf("vm@s1", "cl", 0));
            Inode cl = a.lookup("cl");
            assertTrue(a.unsealed(cl.vdiId()));
            assertEquals(java.util.List.of(), c.holdersOnDisk(cl.inodeOid()), "the clone's inode object was never written");

            // Before anyone opens the clone: the parent goes, and must keep every object the clone reads.
            a.delete("vm@s1");
            a.delete("vm");
            int s1Vid = cl.parentVdiId();
            assertFalse(c.holdersOnDisk(ObjectIds.dataOid(s1Vid, 0)).isEmpty(), "the clone still reads s1's object 0");

            VdiManager b = c.node(2).vdis();
            assertArrayEquals(s1, read(b, "cl", 0, SIZE), "the clone reads its parent's bytes");
            assertFalse(b.unsealed(cl.vdiId()), "opening it sealed it");
            byte[] mine = random(MiB, 3);
            write(b, "cl", 2L * MiB, mine);
            byte[] now = with(s1, 2 * MiB, mine);
            assertArrayEquals(now, read(b, "cl", 0, SIZE));

            c.restart(1);
            c.awaitSettled(20_000);
            assertArrayEquals(now, read(c.node(1).vdis(), "cl", 0, SIZE), "read through the restarted node");
        });
    }

    @Test
    void snapshotWhoseWriterDiedStaysCrashConsistent() throws Exception {
        new MiniCluster(root, false).run(c -> {
            started(c);
            VdiManager v1 = c.node(1).vdis();
            v1.create("vm", SIZE, 0);
            byte[] acked = with(new byte[SIZE], MiB, random(8 * MiB, 4));
            write(v1, "vm", 0, acked);

            crashDuring(c, CatalogueOp.Kind.SNAPSHOT, v -> v.snapshot("vm", "s1"));
            VdiManager a = c.node(0).vdis();
            assertTrue(a.unsealed(a.lookup("vm").vdiId()));
            assertArrayEquals(acked, read(a, "vm@s1", 0, SIZE), "the snapshot has what was acknowledged before it");
            assertArrayEquals(acked, read(a, "vm", 0, SIZE), "the VDI goes on from the snapshot");
            assertFalse(a.unsealed(a.lookup("vm").vdiId()));

            byte[] later = random(3 * MiB, 5);
            write(a, "vm", 6L * MiB, later);
            byte[] now = with(acked, 6 * MiB, later);
            assertArrayEquals(acked, read(c.node(2).vdis(), "vm@s1", 0, SIZE), "later writes are not in the snapshot");
            a.delete("vm@s1");
            assertArrayEquals(now, read(a, "vm", 0, SIZE), "deleting the snapshot keeps what the VDI reads");
        });
    }

    @Test
    void rollbackWhoseWriterDiedReadsTheSnapshotAndTheReplacedVdiIsReclaimed() throws Exception {
        new MiniCluster(root, false).run(c -> {
            started(c);
            VdiManager a = c.node(0).vdis();
            a.create("vm", SIZE, 0);
            byte[] s1 = with(new byte[SIZE], 0, random(6 * MiB, 6));
            write(a, "vm", 0, s1);
            a.snapshot("vm", "s1");
            Inode replaced = a.lookup("vm");
            write(a, "vm", 12L * MiB, random(MiB, 7)); // object 3: the replaced VDI's own
            long own = ObjectIds.dataOid(replaced.vdiId(), 3);
            assertFalse(c.holdersOnDisk(own).isEmpty());

            crashDuring(c, CatalogueOp.Kind.ROLLBACK, v -> v.rollback("vm", "s1"));
            assertArrayEquals(s1, read(c.node(2).vdis(), "vm", 0, SIZE), "the VDI is back at s1");
            // Nobody deletes anything more: the first member finishes the replaced VDI's reclaim itself.
            MiniCluster.await("the replaced VDI's object is gone", 20_000, () -> {
                try {
                    return c.holdersOnDisk(own).isEmpty() && a.all().stream().noneMatch(in -> in.vdiId() == replaced.vdiId());
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            a.delete("vm@s1");
            assertArrayEquals(s1, read(a, "vm", 0, SIZE));
        });
    }

    @Test
    void createWhoseWriterDiedReadsZerosAndTakesWrites() throws Exception {
        new MiniCluster(root, false).run(c -> {
            started(c);
            crashDuring(c, CatalogueOp.Kind.CREATE, v -> v.create("fresh", SIZE, 0));
            VdiManager a = c.node(0).vdis();
            Inode fresh = a.lookup("fresh");
            assertTrue(a.unsealed(fresh.vdiId()));
            assertArrayEquals(new byte[SIZE], read(a, "fresh", 0, SIZE));
            byte[] data = random(5 * MiB, 8);
            write(a, "fresh", MiB, data);
            assertArrayEquals(with(new byte[SIZE], MiB, data), read(c.node(2).vdis(), "fresh", 0, SIZE));
        });
    }

    @Test
    void aDeleteInterruptedByACrashFinishesWhenTheNodeStartsAgain() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(1);
            c.awaitSettled(10_000);
            c.node(0).format(1, false);
            c.awaitSettled(10_000);
            long empty = c.node(0).store().stats().used();
            VdiManager v = c.node(0).vdis();
            Inode vm = v.create("vm", SIZE, 0);
            write(v, "vm", 0, random(10 * MiB, 9));
            assertTrue(c.node(0).store().stats().used() >= 10L * MiB);

            crashDuring(c, 0, CatalogueOp.Kind.DELETE, x -> x.delete("vm"));
            assertTrue(c.holdersOnDisk(ObjectIds.dataOid(vm.vdiId(), 0)).isEmpty(), "node 0 is down");
            Node n = c.restart(0);
            c.awaitSettled(10_000);
            // No other delete comes: the node finishes the interrupted one when it serves again.
            MiniCluster.await("the deleted VDI's objects are gone", 20_000, () -> {
                try {
                    return n.store().list().isEmpty() && n.vdis().all().isEmpty();
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            assertTrue(n.store().stats().used() <= empty + MiB, "space back: " + n.store().stats().used() + " used, " + empty + " before");
        });
    }
}
