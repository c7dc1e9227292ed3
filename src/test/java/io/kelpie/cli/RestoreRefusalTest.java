package io.kelpie.cli;

import io.kelpie.node.MiniCluster;
import io.kelpie.vdi.Vdi;
import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a restore refuses before it writes: a VDI held by a client on another node or on its own;
 * an incremental of another source whose tags match. And the hold that keeps other nodes out
 * between the restore's chunks.
 */
@Timeout(240)
class RestoreRefusalTest extends RestoreTestBase {
    @Test
    void aVdiOpenOnAnotherNodeIsRefusedBeforeAnyWrite() throws Exception {
        cluster().run(c -> {
            String a0 = twoNodes(c);
            byte[][] snaps = source(a0);
            byte[] full = ok(a0, new byte[0], "vdi", "backup", "src", "-s", "s1");
            ok(a0, new byte[0], "vdi", "create", "vm", "20M");
            byte[] listBefore = ok(a0, new byte[0], "vdi", "list", "--json");

            Vdi held = c.node(1).vdis().open("vm");
            String err;
            try {
                err = failed(a0, full, "vdi", "restore", "vm", "-s", "s1");
            } finally {
                held.close();
            }
            assertTrue(err.contains("'vm' is in use on node " + c.address(1)), err);
            assertTrue(err.strip().endsWith("; nothing was changed"), err);
            MiniCluster.await("the claim of node 1 is released", 10_000,
                    () -> c.node(0).vdis().lockHolder(c.node(0).vdis().lookup("vm").vdiId()) == null);
            assertArrayEquals(listBefore, ok(a0, new byte[0], "vdi", "list", "--json"), "catalogue changed");
            assertArrayEquals(new byte[SIZE], ok(a0, new byte[0], "vdi", "read", "vm"));

            // a client of the restore's own node would write under it too
            held = c.node(0).vdis().open("vm");
            try {
                err = failed(a0, full, "vdi", "restore", "vm", "-s", "s1");
            } finally {
                held.close();
            }
            assertTrue(err.contains("'vm' is in use by 1 client(s) on node " + c.address(0))
                    && err.strip().endsWith("; nothing was changed"), err);
            assertArrayEquals(listBefore, ok(a0, new byte[0], "vdi", "list", "--json"), "catalogue changed");
            assertArrayEquals(new byte[SIZE], ok(a0, new byte[0], "vdi", "read", "vm"));

            ok(a0, full, "vdi", "restore", "vm", "-s", "s1");
            assertArrayEquals(snaps[0], ok(a0, new byte[0], "vdi", "read", "vm@s1"));
        });
    }

    private static long hold(AdminClient client, String name, long token, int leaseMs) {
        io.netty.buffer.ByteBuf args = io.netty.buffer.Unpooled.buffer();
        new io.kelpie.peer.WireWriter(args).string(name).i32(leaseMs);
        io.netty.buffer.ByteBuf r = client.call(new io.kelpie.peer.PeerRequest(io.kelpie.peer.PeerConstants.VDI_HOLD,
                0, 0, 0, 0, token, 0, args));
        try {
            return r.readLong();
        } finally {
            r.release();
        }
    }

    private static boolean opens(VdiManager vdis, String name) {
        try {
            vdis.open(name).close();
            return true;
        } catch (io.kelpie.common.KelpieException e) {
            assertEquals(io.kelpie.common.Status.VDI_LOCKED, e.status(), e.getMessage());
            return false;
        }
    }

    /** What keeps a restore's VDI from being claimed elsewhere between two of its chunks. */
    @Test
    void aHoldKeepsOtherNodesOutUntilReleasedOrItsLeaseRunsOut() throws Exception {
        cluster().run(c -> {
            c.start(2);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            ok(c.address(0), new byte[0], "vdi", "create", "vm", "20M");
            VdiManager other = c.node(1).vdis();
            other.releaseGrace(0); // its refusals are the point, and the shortest lease is shorter than the grace
            try (AdminClient client = AdminClient.connect(c.address(0))) {
                long token = hold(client, "vm", 0, 30_000);
                byte[] data = random(MiB, 7);
                ok(c.address(0), data, "vdi", "write", "vm", "0"); // shares the held handle
                assertTrue(!opens(other, "vm"), "another node opened a held VDI");
                assertEquals(token, hold(client, "vm", token, 30_000), "renewal");
                assertTrue(!opens(other, "vm"), "another node opened a held VDI after the write");
                hold(client, "vm", token, 0);
                MiniCluster.await("node 1 opens the released VDI", 10_000, () -> opens(other, "vm"));
                assertArrayEquals(data, Arrays.copyOf(ok(c.address(1), new byte[0], "vdi", "read", "vm"), MiB));

                hold(client, "vm", 0, 300); // never renewed
                assertTrue(!opens(other, "vm"), "another node opened a held VDI");
                MiniCluster.await("the lease runs out", 10_000, () -> opens(other, "vm"));
            }
        });
    }

    /** An incremental of another VDI whose tags happen to match is refused: the base is checked by identity. */
    @Test
    void anIncrementalOfAnotherSourceWithTheSameTagsIsRefused() throws Exception {
        cluster().run(c -> {
            c.start(1);
            c.awaitSettled(10_000);
            c.node(0).format(1, false);
            c.awaitSettled(10_000);
            String a0 = c.address(0);
            byte[][] snaps = source(a0);
            ok(a0, new byte[0], "vdi", "create", "other", "20M");
            ok(a0, random(MiB, 9), "vdi", "write", "other", "0");
            ok(a0, new byte[0], "vdi", "snapshot", "other", "-s", "s1");
            ok(a0, random(MiB, 10), "vdi", "write", "other", String.valueOf(MiB));
            ok(a0, new byte[0], "vdi", "snapshot", "other", "-s", "s2");
            byte[] full = ok(a0, new byte[0], "vdi", "backup", "src", "-s", "s1");
            byte[] inc = ok(a0, new byte[0], "vdi", "backup", "src", "-F", "s1", "-s", "s2");
            byte[] foreign = ok(a0, new byte[0], "vdi", "backup", "other", "-F", "s1", "-s", "s2");

            ok(a0, new byte[0], "vdi", "create", "vm", "20M");
            ok(a0, full, "vdi", "restore", "vm", "-s", "s1");
            assertTrue(new String(ok(a0, new byte[0], "vdi", "getattr", "vm@s1", "kelpie.backup.source"),
                    StandardCharsets.UTF_8).startsWith("src@s1 vdi "));
            byte[] listBefore = ok(a0, new byte[0], "vdi", "list", "--json");
            String err = failed(a0, foreign, "vdi", "restore", "vm", "-s", "s2");
            assertTrue(err.contains("the stream is based on other@s1 vdi ") && err.contains("but 'vm@s1' was restored from src@s1 vdi ")
                    && err.strip().endsWith("nothing was changed"), err);
            assertArrayEquals(listBefore, ok(a0, new byte[0], "vdi", "list", "--json"), "catalogue changed");
            assertArrayEquals(snaps[0], ok(a0, new byte[0], "vdi", "read", "vm"));
            ok(a0, inc, "vdi", "restore", "vm", "-s", "s2");
            assertArrayEquals(snaps[1], ok(a0, new byte[0], "vdi", "read", "vm@s2"));
        });
    }
}
