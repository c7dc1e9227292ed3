package io.kelpie.node;

import io.kelpie.common.ObjectIds;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.Vdi;
import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Sheepdog sequence on three nodes with 2 copies: every step ordered through the cluster from
 * a different node, every snapshot and VDI read through every node after each step; then deletes
 * free exactly the objects nothing reads any more, on every replica.
 */
@Timeout(180)
class SnapshotClusterTest {
    private static final int MiB = 1 << 20;
    private static final int SIZE = 16 * MiB;

    @TempDir
    Path root;

    private final Map<String, byte[]> model = new HashMap<>();

    private void put(MiniCluster c, int node, String name, long offset, byte[] data) {
        write(c.node(node).vdis(), name, offset, data);
        System.arraycopy(data, 0, model.get(name), (int) offset, data.length);
    }

    private void checkAll(MiniCluster c) throws Exception {
        for (Node n : c.running()) {
            for (Map.Entry<String, byte[]> e : model.entrySet()) {
                String name = e.getKey();
                MiniCluster.await(n.selfInfo() + " knows " + name, 10_000, () -> {
                    try {
                        n.vdis().find(name);
                        return true;
                    } catch (RuntimeException ex) {
                        return false;
                    }
                });
                // A writable VDI is read where it was written last: one node at a time has it open.
                assertArrayEquals(e.getValue(), read(n.vdis(), name, 0, SIZE), name + " read through " + n.selfInfo());
            }
        }
    }

    @Test
    void sequenceAndDeletesAcrossThreeNodes() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            VdiManager a = c.node(0).vdis();
            a.create("vm", SIZE, 0);
            model.put("vm", new byte[SIZE]);
            put(c, 0, "vm", MiB, random(6 * MiB, 1));
            c.node(1).vdis().snapshot("vm", "s1");
            model.put("vm@s1", model.get("vm").clone());
            checkAll(c);
            put(c, 2, "vm", 5L * MiB, random(5 * MiB, 2));
            checkAll(c);

            // A snapshot while node 0 has the VDI open: node 0 takes it (its handle pauses, then goes on).
            Vdi open = c.node(0).vdis().open("vm");
            try {
                c.node(0).vdis().snapshot("vm", "s2");
                model.put("vm@s2", model.get("vm").clone());
                byte[] after = random(MiB, 5);
                write(open, 10L * MiB, after);
                System.arraycopy(after, 0, model.get("vm"), 10 * MiB, MiB);
                assertEquals(c.node(0).vdis().lookup("vm").vdiId(), open.inode().vdiId(), "the handle moved to the new inode");
            } finally {
                open.close();
            }
            checkAll(c);

            Inode clone = c.node(2).vdis().cloneOf("vm@s1", "c", 0);
            assertEquals(c.node(2).vdis().lookup("vm@s1").vdiId(), clone.parentVdiId());
            model.put("c", model.get("vm@s1").clone());
            put(c, 1, "c", 3L * MiB, random(2 * MiB, 3));
            checkAll(c);
            c.node(1).vdis().rollback("vm", "s1");
            System.arraycopy(model.get("vm@s1"), 0, model.get("vm"), 0, SIZE);
            checkAll(c);

            // Deletes: the objects on disk are always exactly those some live VDI reads, on 2 nodes each.
            for (String victim : List.of("vm@s1", "vm", "vm@s2", "c")) {
                c.node(2).vdis().delete(victim);
                model.remove(victim);
                checkAll(c);
                Set<Long> wanted = referenced(c.node(0).vdis());
                assertEquals(wanted, dataObjectsOnDisk(c), "objects on disk after deleting " + victim);
                for (long oid : wanted) {
                    assertEquals(2, c.holdersOnDisk(oid).size(), ObjectIds.toHex(oid) + " is not on 2 nodes");
                }
            }
            for (Node n : c.running()) {
                MiniCluster.await("the placeholders are gone on " + n.selfInfo(), 10_000, () -> n.vdis().all().isEmpty());
                assertEquals(List.of(), n.store().list(), "objects left on " + n.selfInfo());
                assertTrue(n.store().stats().used() < MiB, "space used on " + n.selfInfo() + ": " + n.store().stats().used());
            }
        });
    }

    private static Set<Long> referenced(VdiManager vdis) {
        Set<Long> out = new TreeSet<>();
        for (Inode in : vdis.list()) {
            vdis.allocatedObjects(in).forEach((idx, owner) -> out.add(ObjectIds.dataOid(owner, idx)));
        }
        return out;
    }

    private static Set<Long> dataObjectsOnDisk(MiniCluster c) throws Exception {
        Set<Long> out = new TreeSet<>();
        for (Node n : c.running()) {
            for (long oid : n.store().list()) {
                if (ObjectIds.isData(oid)) {
                    out.add(oid);
                }
            }
        }
        return out;
    }
}
