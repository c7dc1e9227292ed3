package io.kelpie.cli;

import io.kelpie.common.ObjectIds;
import io.kelpie.node.MiniCluster;
import io.kelpie.store.FaultyStore;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.Vdi;
import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A restore that fails part-way changes nothing: writes into the target start failing (injected
 * store faults on both replicas) after some records landed, and the VDI reads byte for byte as
 * before, full (emptied again) and incremental (rolled back to FROM), and a retry once the fault
 * has cleared restores it. A VDI held by a client on another node is refused before any write.
 */
@Timeout(240)
class RestoreUndoTest {
    private static final int MiB = 1 << 20;
    private static final int SIZE = 20 * MiB;

    @TempDir
    Path root;

    /** Data writes of VDI {@code vid} at object index >= {@code from} fail; -1: none. */
    private final AtomicInteger faultVid = new AtomicInteger(-1);
    private final AtomicInteger faultFrom = new AtomicInteger();
    /** Once a data write failed, writes of the VDI's inode fail too (the undo cannot work). */
    private final AtomicBoolean breakUndo = new AtomicBoolean();
    private final AtomicBoolean tripped = new AtomicBoolean();
    private final List<FaultyStore> stores = new CopyOnWriteArrayList<>();

    private record Run(int rc, byte[] out, String err) {
    }

    private static Run kelpie(String addr, byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] a = Arrays.copyOf(args, args.length + 2);
        a[args.length] = "-a";
        a[args.length + 1] = addr;
        int rc = Main.run(new ByteArrayInputStream(stdin), out, err, a);
        return new Run(rc, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    private static byte[] ok(String addr, byte[] stdin, String... args) {
        Run r = kelpie(addr, stdin, args);
        assertEquals(0, r.rc(), String.join(" ", args) + ": " + r.err());
        return r.out();
    }

    private static String failed(String addr, byte[] stdin, String... args) {
        Run r = kelpie(addr, stdin, args);
        assertNotEquals(0, r.rc(), "accepted: " + String.join(" ", args));
        assertEquals(1, r.err().lines().count(), r.err());
        return r.err();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private boolean injected(long oid) {
        int vid = faultVid.get();
        if (vid < 0 || ObjectIds.vid(oid) != vid) {
            return false;
        }
        if (ObjectIds.isData(oid) && (oid & ObjectIds.INDEX_MASK) >= faultFrom.get()) {
            tripped.set(true);
            return true;
        }
        return ObjectIds.isInode(oid) && breakUndo.get() && tripped.get();
    }

    private void fault(VdiManager vdis, String name, int fromIndex) {
        faultFrom.set(fromIndex);
        faultVid.set(vdis.lookup(name).vdiId());
    }

    private void heal() {
        faultVid.set(-1);
        breakUndo.set(false);
        tripped.set(false);
    }

    private MiniCluster cluster() {
        return new MiniCluster(root, false).wrapStores(s -> {
            FaultyStore f = new FaultyStore(s).failWrites(this::injected);
            stores.add(f);
            return f;
        });
    }

    /** A source VDI with snapshots s1 and s2 (s2: a block in object 2, a new object 4); returns {s1, s2}. */
    private static byte[][] source(String a0) {
        ok(a0, new byte[0], "vdi", "create", "src", "20M");
        byte[] model = new byte[SIZE];
        byte[] first = random(14 * MiB, 1);
        ok(a0, first, "vdi", "write", "src", "0");
        System.arraycopy(first, 0, model, 0, first.length);
        ok(a0, new byte[0], "vdi", "snapshot", "src", "-s", "s1");
        byte[] s1 = model.clone();
        byte[] block = random(4096, 2);
        ok(a0, block, "vdi", "write", "src", String.valueOf(8 * MiB + 4096));
        System.arraycopy(block, 0, model, 8 * MiB + 4096, block.length);
        byte[] tail = random(2 * MiB, 3);
        ok(a0, tail, "vdi", "write", "src", String.valueOf(16 * MiB));
        System.arraycopy(tail, 0, model, 16 * MiB, tail.length);
        ok(a0, new byte[0], "vdi", "snapshot", "src", "-s", "s2");
        return new byte[][]{s1, model};
    }

    private static void assertEmptyOwnObjects(VdiManager vdis, String name) {
        Inode in = vdis.lookup(name);
        long own = vdis.allocatedObjects(name).values().stream().filter(v -> v == in.vdiId()).count();
        assertEquals(0, own, "objects of its own left in " + name);
    }

    @Test
    void failedRestoresAreUndoneAndRetriesSucceed() throws Exception {
        cluster().run(c -> {
            c.start(2);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            String a0 = c.address(0);
            VdiManager vdis = c.node(0).vdis();
            byte[][] snaps = source(a0);
            byte[] full = ok(a0, new byte[0], "vdi", "backup", "src", "-s", "s1");
            byte[] inc = ok(a0, new byte[0], "vdi", "backup", "src", "-F", "s1", "-s", "s2");

            // full: objects 0 and 1 land, object 2 fails; the VDI is empty again, catalogue as it was
            ok(a0, new byte[0], "vdi", "create", "vm", "20M");
            byte[] listBefore = ok(a0, new byte[0], "vdi", "list", "--json");
            fault(vdis, "vm", 2);
            String err = failed(a0, full, "vdi", "restore", "vm", "-s", "s1");
            assertTrue(err.contains("undone: VDI 'vm' is empty again"), err);
            assertTrue(tripped.get(), "the fault never fired");
            heal();
            assertArrayEquals(new byte[SIZE], ok(a0, new byte[0], "vdi", "read", "vm"));
            assertArrayEquals(listBefore, ok(a0, new byte[0], "vdi", "list", "--json"), "catalogue changed");
            assertTrue(vdis.allocatedObjects("vm").isEmpty(), "objects left: " + vdis.allocatedObjects("vm"));
            ok(a0, full, "vdi", "restore", "vm", "-s", "s1");
            assertArrayEquals(snaps[0], ok(a0, new byte[0], "vdi", "read", "vm@s1"));

            // incremental: the block in object 2 lands, object 4 fails; the VDI is back at vm@s1
            fault(vdis, "vm", 4);
            err = failed(a0, inc, "vdi", "restore", "vm", "-s", "s2");
            assertTrue(err.contains("undone: VDI 'vm' is back at 'vm@s1'"), err);
            assertTrue(tripped.get(), "the fault never fired");
            heal();
            assertArrayEquals(snaps[0], ok(a0, new byte[0], "vdi", "read", "vm"));
            assertEmptyOwnObjects(vdis, "vm");
            assertEquals(vdis.lookup("vm@s1").vdiId(), vdis.lookup("vm").parentVdiId());
            ok(a0, inc, "vdi", "restore", "vm", "-s", "s2");
            assertArrayEquals(snaps[1], ok(a0, new byte[0], "vdi", "read", "vm@s2"));
            assertArrayEquals(snaps[1], ok(a0, new byte[0], "vdi", "read", "vm"));
        });
    }

    @Test
    void aVdiOpenOnAnotherNodeIsRefusedBeforeAnyWrite() throws Exception {
        cluster().run(c -> {
            c.start(2);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            String a0 = c.address(0);
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

    @Test
    void anUndoThatFailsSaysWhatStateTheVdiIsInAndHowToFixIt() throws Exception {
        cluster().run(c -> {
            c.start(1);
            c.awaitSettled(10_000);
            c.node(0).format(1, false);
            c.awaitSettled(10_000);
            String a0 = c.address(0);
            VdiManager vdis = c.node(0).vdis();
            byte[][] snaps = source(a0);
            byte[] full = ok(a0, new byte[0], "vdi", "backup", "src", "-s", "s1");
            ok(a0, new byte[0], "vdi", "create", "vm", "20M");

            breakUndo.set(true);
            fault(vdis, "vm", 2);
            String err = failed(a0, full, "vdi", "restore", "vm", "-s", "s1");
            assertTrue(err.contains("undoing it failed too"), err);
            assertTrue(err.contains("VDI 'vm' is partly restored; fix it with 'kelpie vdi delete vm && kelpie vdi create vm "
                    + SIZE + "'"), err);
            heal();
            // the advice works
            ok(a0, new byte[0], "vdi", "delete", "vm");
            ok(a0, new byte[0], "vdi", "create", "vm", String.valueOf(SIZE));
            ok(a0, full, "vdi", "restore", "vm", "-s", "s1");
            assertArrayEquals(snaps[0], ok(a0, new byte[0], "vdi", "read", "vm@s1"));

            // every write lands, the flush before the snapshot fails: undone as well
            byte[] inc = ok(a0, new byte[0], "vdi", "backup", "src", "-F", "s1", "-s", "s2");
            stores.forEach(f -> f.failFlush(true));
            err = failed(a0, inc, "vdi", "restore", "vm", "-s", "s2");
            stores.forEach(f -> f.failFlush(false));
            assertTrue(err.contains("failed flushing its writes") && err.contains("undone: VDI 'vm' is back at 'vm@s1'"), err);
            assertArrayEquals(snaps[0], ok(a0, new byte[0], "vdi", "read", "vm"));
            assertEmptyOwnObjects(vdis, "vm");
            ok(a0, inc, "vdi", "restore", "vm", "-s", "s2");
            assertArrayEquals(snaps[1], ok(a0, new byte[0], "vdi", "read", "vm@s2"));
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

    /**
     * The node the restore talks to dies part-way: nothing can be undone through it, so the line
     * says the VDI is partly restored and how to fix it; the fix, through another node, works.
     */
    @Test
    void theNodeDyingPartWayLeavesAFixableStateAndSaysHow() throws Exception {
        AtomicBoolean killed = new AtomicBoolean();
        cluster().run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            String a0 = c.address(0);
            String a1 = c.address(1);
            byte[][] snaps = source(a1);
            byte[] full = ok(a1, new byte[0], "vdi", "backup", "src", "-s", "s1");
            byte[] inc = ok(a1, new byte[0], "vdi", "backup", "src", "-F", "s1", "-s", "s2");
            ok(a1, new byte[0], "vdi", "create", "vm", "20M");
            ok(a1, full, "vdi", "restore", "vm", "-s", "s1");

            // the first failing write takes node 0 down with it, while the gateway still retries
            fault(c.node(1).vdis(), "vm", 4);
            Thread killer = new Thread(() -> {
                try {
                    MiniCluster.await("a write fails", 60_000, tripped::get);
                    c.kill(0);
                    killed.set(true);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            killer.start();
            String err = failed(a0, inc, "vdi", "restore", "vm", "-s", "s2");
            killer.join();
            assertTrue(killed.get(), "node 0 was not killed");
            heal();
            assertTrue(err.contains("undoing it failed too") && err.contains(
                    "VDI 'vm' is partly restored; fix it with 'kelpie vdi rollback vm -s s1'"), err);
            c.awaitSettled(10_000);
            // node 0's claim goes with it (in the next epoch's order): then the advice works
            MiniCluster.await("the rollback is accepted", 20_000,
                    () -> kelpie(a1, new byte[0], "vdi", "rollback", "vm", "-s", "s1").rc() == 0);
            assertArrayEquals(snaps[0], ok(a1, new byte[0], "vdi", "read", "vm"));
            ok(a1, inc, "vdi", "restore", "vm", "-s", "s2");
            assertArrayEquals(snaps[1], ok(c.address(2), new byte[0], "vdi", "read", "vm@s2"));
        });
    }
}
