package io.kelpie.cli;

import io.kelpie.node.MiniCluster;
import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A restore that fails part-way changes nothing: writes into the target start failing (injected
 * store faults on every replica) after some records landed, and the VDI reads byte for byte as
 * before, full (emptied again) and incremental (rolled back to FROM), and a retry once the fault
 * has cleared restores it. When the undo cannot be made, the line says how to fix the VDI.
 */
@Timeout(240)
class RestoreUndoTest extends RestoreTestBase {
    @Test
    void failedRestoresAreUndoneAndRetriesSucceed() throws Exception {
        cluster().run(c -> {
            String a0 = twoNodes(c);
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
