package io.kelpie.check;

import io.kelpie.common.ObjectIds;
import io.kelpie.node.MiniCluster;
import io.kelpie.node.Node;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static io.kelpie.check.VdiCheckTest.kelpie;
import static io.kelpie.check.VdiCheckTest.local;
import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The objects of a deleted snapshot that a clone still reads belong to no live VDI: 'vdi check'
 * of the clone and 'cluster check' check (and repair) them as the clone's data.
 */
@Timeout(120)
class PlaceholderCheckTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    @Test
    void aCloneChecksTheObjectsItReadsOfADeletedSnapshot() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false);
            c.awaitSettled(10_000);
            c.awaitRecovered(20_000);
            VdiManager v = c.node(0).vdis();
            v.create("vm", 64L * MiB, 0);
            byte[] data = random(8 * MiB, 11);
            write(v, "vm", 0, data);
            Inode s1 = v.snapshot("vm", "s1");
            v.cloneOf("vm@s1", "cl", 0);
            v.delete("vm");
            v.delete("vm@s1"); // a placeholder now: the clone reads both of its objects
            long oid = ObjectIds.dataOid(s1.vdiId(), 1);
            Node loser = c.node(1);
            assertTrue(loser.store().remove(oid));

            VdiCheckTest.Result r = kelpie(c.node(2), "vdi", "check", "cl");
            assertEquals(0, r.rc(), r.out() + r.err());
            assertTrue(r.out().contains("repaired " + ObjectIds.toHex(oid) + " on " + loser.selfInfo().address() + ": missing"),
                    r.out());
            assertArrayEquals(Arrays.copyOfRange(data, 4 * MiB, 8 * MiB), local(loser, oid, 4 * MiB));

            assertTrue(loser.store().remove(oid));
            VdiCheckTest.Result all = kelpie(c.node(0), "cluster", "check");
            assertEquals(0, all.rc(), all.out() + all.err());
            assertTrue(all.out().contains("repaired " + ObjectIds.toHex(oid) + " on " + loser.selfInfo().address()), all.out());
            assertTrue(all.out().contains(": 1 repaired, 0 unrepairable; consistent"), all.out());
        });
    }
}
