package io.kelpie.node;

import static io.kelpie.vdi.VdiBytes.write;
import static io.kelpie.vdi.VdiBytes.read;
import io.kelpie.vdi.Inode;
import io.kelpie.common.ObjectIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** After membership changes, a node that became a replica fetches an object before serving it. */
@Timeout(120)
class RecoveryOnDemandTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    @Test
    void joinsAndCrashesDoNotLoseData() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            c.node(0).vdis().create("disk", 40L * MiB, 0);
            byte[] expected = new byte[40 * MiB];
            new Random(7).nextBytes(expected);
            write(c.node(0).vdis(), "disk", 0, expected);

            Node added = c.add(null, 0);
            c.awaitSettled(10_000);
            Inode in = added.vdis().lookup("disk");
            int moved = 0;
            for (long i = 0; i < in.objectCount(); i++) {
                if (added.holders(ObjectIds.dataOid(in.vdiId(), i), 2).contains(added.selfInfo().address())) {
                    moved++;
                }
            }
            assertTrue(moved > 0, "the new node should be a replica of some objects");
            for (Node n : c.running()) {
                assertArrayEquals(expected, read(n.vdis(), "disk", 0, expected.length), "read through " + n.selfInfo());
            }
            // A partial write to every object, through the new node: the rest of each object survives.
            for (int i = 0; i < 10; i++) {
                byte[] patch = new byte[4096];
                new Random(100 + i).nextBytes(patch);
                long off = (long) i * 4 * MiB + 12345;
                write(added.vdis(), "disk", off, patch);
                System.arraycopy(patch, 0, expected, (int) off, patch.length);
            }
            for (Node n : c.running()) {
                assertArrayEquals(expected, read(n.vdis(), "disk", 0, expected.length), "read after patch through " + n.selfInfo());
            }
            // Each object now lives on its epoch's replicas.
            for (long i = 0; i < in.objectCount(); i++) {
                long oid = ObjectIds.dataOid(in.vdiId(), i);
                assertTrue(c.holdersOnDisk(oid).containsAll(added.holders(oid, 2)), "object " + i);
            }
            c.kill(1);
            c.awaitSettled(10_000);
            for (Node n : c.running()) {
                assertArrayEquals(expected, read(n.vdis(), "disk", 0, expected.length), "read after a crash through " + n.selfInfo());
            }
            // Written while node 1 is away: its old copies must not come back as current.
            byte[] whileAway = new byte[40 * MiB];
            new Random(8).nextBytes(whileAway);
            write(c.node(2).vdis(), "disk", 0, whileAway);
            c.restart(1);
            c.awaitSettled(10_000);
            for (Node n : c.running()) {
                assertArrayEquals(whileAway, read(n.vdis(), "disk", 0, whileAway.length), "read after the rejoin through " + n.selfInfo());
            }
            // And a graceful leave, a write, and a return.
            c.stop(0);
            c.awaitSettled(10_000);
            byte[] last = new byte[40 * MiB];
            new Random(9).nextBytes(last);
            write(c.node(3).vdis(), "disk", 0, last);
            c.restart(0);
            c.awaitSettled(10_000);
            for (Node n : c.running()) {
                assertArrayEquals(last, read(n.vdis(), "disk", 0, last.length), "read after the second rejoin through " + n.selfInfo());
            }
        });
    }

    @Test
    void anObjectWhoseOnlyHolderIsDownFailsInsteadOfReadingAsZeros() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(1, false);
            c.awaitSettled(10_000);
            c.node(0).vdis().create("disk", 40L * MiB, 0);
            byte[] expected = new byte[40 * MiB];
            new Random(11).nextBytes(expected);
            write(c.node(0).vdis(), "disk", 0, expected);
            // The victim must hold something: placement depends on the nodes' random ids.
            int victim = c.node(1).store().list().isEmpty() ? 2 : 1;
            assertTrue(!c.node(victim).store().list().isEmpty(), "every object landed on node 0");
            c.kill(victim);
            c.awaitSettled(10_000);
            // Opening reads the inode, reading the data objects: either may be the unavailable one.
            RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
                    RuntimeException.class, () -> read(c.node(0).vdis(), "disk", 0, expected.length));
            org.junit.jupiter.api.Assertions.assertEquals(io.kelpie.common.Status.IO_ERROR,
                    io.kelpie.common.KelpieException.statusOf(e));
            assertTrue(io.kelpie.common.KelpieException.messageOf(e).contains("unavailable"),
                    io.kelpie.common.KelpieException.messageOf(e));
            // Back again, the node's own (set aside) copies make the VDI whole.
            c.restart(victim);
            c.awaitSettled(10_000);
            for (Node n : c.running()) {
                assertArrayEquals(expected, read(n.vdis(), "disk", 0, expected.length), "read after the return through " + n.selfInfo());
            }
        });
    }
}
