package io.kelpie.node;

import io.kelpie.recovery.RecoveryStatus;
import io.kelpie.vdi.Inode;
import io.kelpie.common.ObjectIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Background recovery: objects move to their new replicas without any client touching them,
 * copies a node no longer owns go once everyone has recovered, a newer epoch supersedes a running
 * pass without refetching, and a node that missed writes comes back current.
 */
@Timeout(180)
class BackgroundRecoveryTest {
    private static final int MiB = 1 << 20;

    @TempDir
    java.nio.file.Path root;

    @Test
    void afterANodeDiesAndAnotherJoinsEveryObjectIsOnThreeLiveNodes() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false);
            c.awaitSettled(10_000);
            byte[] data = fill(c.node(0), "disk", 40 * MiB, 1);
            c.kill(1);
            c.awaitSettled(10_000);
            c.add(null, 0);
            c.awaitSettled(10_000);
            c.awaitRecovered(60_000);
            // No client read has touched the new node: what it holds, background recovery put there.
            assertPlacement(c, "disk", 3);
            for (Node n : c.running()) {
                assertArrayEquals(data, read(n.vdis(), "disk", 0, data.length), "read through " + n.selfInfo());
            }
        });
    }

    @Test
    void copiesANodeNoLongerOwnsAreDeletedOnceEveryNodeHasRecovered() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            byte[] data = fill(c.node(0), "disk", 64 * MiB, 2);
            long usedBefore = c.node(0).store().stats().used();
            c.add(null, 0);
            c.add(null, 0);
            c.awaitSettled(10_000);
            c.awaitRecovered(60_000);
            MiniCluster.await("stale copies are deleted", 30_000,
                    () -> c.running().stream().allMatch(n -> n.recoveryWorker().status().staleObjects() == 0));
            assertPlacement(c, "disk", 2);
            assertTrue(c.node(0).store().stats().used() < usedBefore, "node 0's space came back");
            for (Node n : c.running()) {
                assertArrayEquals(data, read(n.vdis(), "disk", 0, data.length), "read through " + n.selfInfo());
            }
        });
    }

    @Test
    void aNewerEpochSupersedesARunningPassWithoutRefetching() throws Exception {
        new MiniCluster(root, false).recoveryRate(8L * MiB).run(c -> {
            c.start(2);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            byte[] data = fill(c.node(0), "disk", 64 * MiB, 3);
            Node third = c.add(null, 0);
            c.awaitSettled(10_000);
            MiniCluster.await("the third node is part way", 30_000, () -> {
                RecoveryStatus s = third.recoveryWorker().status();
                return s.state() == RecoveryStatus.State.RUNNING && s.objectsDone() >= 2;
            });
            RecoveryStatus partWay = third.recoveryWorker().status();
            assertTrue(partWay.objectsDone() < partWay.objectsTotal(), "still running: " + partWay);
            Map<Long, Object> files = fileIds(third);
            c.add(null, 0);
            c.awaitSettled(10_000);
            c.awaitRecovered(90_000);
            MiniCluster.await("stale copies are deleted", 30_000,
                    () -> c.running().stream().allMatch(n -> n.recoveryWorker().status().staleObjects() == 0));
            assertPlacement(c, "disk", 2);
            // Every object the third node had fetched and still owns is the same file: not fetched again.
            Map<Long, Object> after = fileIds(third);
            int kept = 0;
            for (var e : files.entrySet()) {
                if (after.containsKey(e.getKey())) {
                    assertEquals(e.getValue(), after.get(e.getKey()), "object " + ObjectIds.toHex(e.getKey()) + " was fetched again");
                    kept++;
                }
            }
            assertTrue(kept > 0, "the third node kept some of what it had recovered");
            for (Node n : c.running()) {
                assertArrayEquals(data, read(n.vdis(), "disk", 0, data.length), "read through " + n.selfInfo());
            }
        });
    }

    @Test
    void aNodeThatMissedWritesComesBackWithTheNewBytes() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            fill(c.node(0), "disk", 40 * MiB, 4);
            c.kill(1);
            c.awaitSettled(10_000);
            byte[] newer = new byte[40 * MiB];
            new Random(5).nextBytes(newer);
            write(c.node(2).vdis(), "disk", 0, newer);
            c.restart(1);
            c.awaitSettled(10_000);
            // At once, through the node that was away (on demand, whatever background recovery has done).
            assertArrayEquals(newer, read(c.node(1).vdis(), "disk", 0, newer.length), "read through the returned node");
            c.awaitRecovered(60_000);
            MiniCluster.await("stale copies are deleted", 30_000,
                    () -> c.running().stream().allMatch(n -> n.recoveryWorker().status().staleObjects() == 0));
            assertPlacement(c, "disk", 2);
        });
    }

    private static byte[] fill(Node via, String name, int size, long seed) throws Exception {
        via.vdis().create(name, size, 0);
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        write(via.vdis(), name, 0, data);
        return data;
    }

    /**
     * Every object of the VDI (its inode and data objects) is on exactly its replicas among the
     * running nodes, at one version, with identical bytes.
     */
    private static void assertPlacement(MiniCluster c, String name, int copies) throws IOException {
        Node any = c.running().get(0);
        Inode in = any.vdis().lookup(name);
        List<Long> oids = new ArrayList<>();
        oids.add(ObjectIds.inodeOid(in.vdiId()));
        for (long i = 0; i < in.objectCount(); i++) {
            oids.add(ObjectIds.dataOid(in.vdiId(), i));
        }
        Map<String, Node> byAddress = new HashMap<>();
        c.running().forEach(n -> byAddress.put(n.selfInfo().address(), n));
        for (long oid : oids) {
            Set<String> want = new TreeSet<>(any.holders(oid, copies));
            assertEquals(copies, want.size(), "replicas of " + ObjectIds.toHex(oid));
            assertEquals(want, new TreeSet<>(c.holdersOnDisk(oid)), "object " + ObjectIds.toHex(oid) + " is on exactly its replicas");
            byte[] first = null;
            long version = -1;
            for (String a : want) {
                Node n = byAddress.get(a);
                long v = n.store().version(oid);
                byte[] bytes = content(n, oid);
                if (first == null) {
                    first = bytes;
                    version = v;
                } else {
                    assertEquals(version, v, "versions of " + ObjectIds.toHex(oid));
                    assertArrayEquals(first, bytes, "bytes of " + ObjectIds.toHex(oid) + " on " + a);
                }
            }
        }
    }

    private static byte[] content(Node n, long oid) throws IOException {
        int size = ObjectIds.isInode(oid) ? 8 * MiB : 4 * MiB;
        ByteBuffer buf = ByteBuffer.allocate(size);
        n.store().read(oid, 0, buf);
        return buf.array();
    }

    /** Object id to the identity of its file (a new file when an object is fetched again). */
    private static Map<Long, Object> fileIds(Node n) throws IOException {
        Map<Long, Object> out = new HashMap<>();
        for (long oid : n.store().list()) {
            var p = n.dataDir().objects().resolve(ObjectIds.toHex(oid));
            if (Files.exists(p)) {
                out.put(oid, Files.getAttribute(p, "unix:ino"));
            }
        }
        return out;
    }
}
