package io.kelpie.check;

import io.kelpie.cli.Main;
import io.kelpie.node.MiniCluster;
import io.kelpie.node.Node;
import io.kelpie.common.ObjectIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** 'vdi check' and 'cluster check' on in-process nodes: damaged replicas are found, repaired and confirmed. */
@Timeout(120)
class VdiCheckTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    record Result(int rc, String out, String err) {
    }

    static Result kelpie(Node via, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "-a";
        all[args.length + 1] = via.selfInfo().address();
        int rc = Main.run(new ByteArrayInputStream(new byte[0]), out, err, all);
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Node byAddress(MiniCluster c, String address) {
        return c.running().stream().filter(n -> n.selfInfo().address().equals(address)).findFirst().orElseThrow();
    }

    static byte[] local(Node n, long oid, int length) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(length);
        assertTrue(n.store().read(oid, 0, b), "object " + ObjectIds.toHex(oid) + " missing on " + n.selfInfo());
        return b.array();
    }

    /** Flips one byte of the object's file behind the store's back, as bit rot would. */
    static void flipByte(Node n, long oid, long offset) throws Exception {
        Path f = n.dataDir().objects().resolve(ObjectIds.toHex(oid));
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ 0x5a);
        }
    }

    @Test
    void repairsAFlippedByteAndAMissingCopyThenFindsNothing() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false);
            c.awaitSettled(10_000);
            c.awaitRecovered(20_000);
            c.node(0).vdis().create("disk", 64L * MiB, 0);
            byte[] data = random(8 * MiB, 7);
            write(c.node(0).vdis(), "disk", 0, data);
            int vid = c.node(0).vdis().lookup("disk").vdiId();
            long rotten = ObjectIds.dataOid(vid, 0);
            long deleted = ObjectIds.dataOid(vid, 1);
            List<String> ring0 = c.node(0).holders(rotten, 3);
            List<String> ring1 = c.node(0).holders(deleted, 3);
            Node rotNode = byAddress(c, ring0.get(0));
            Node lossNode = byAddress(c, ring1.stream().filter(a -> !a.equals(ring0.get(0))).findFirst().orElseThrow());
            flipByte(rotNode, rotten, 12345);
            assertTrue(lossNode.store().remove(deleted));

            Result r = kelpie(c.node(2), "vdi", "check", "disk");
            assertEquals(0, r.rc(), r.out() + r.err());
            assertTrue(r.out().contains("repaired " + ObjectIds.toHex(rotten) + " on " + rotNode.selfInfo().address() + ": "),
                    r.out());
            assertTrue(r.out().contains("repaired " + ObjectIds.toHex(deleted) + " on " + lossNode.selfInfo().address()
                    + ": missing"), r.out());
            assertTrue(r.out().contains("checked 3 objects of 1 VDI on 3 nodes: 2 repaired, 0 unrepairable; consistent"),
                    r.out());
            for (Node n : c.running()) {
                assertArrayEquals(Arrays.copyOfRange(data, 0, 4 * MiB), local(n, rotten, 4 * MiB), "object 0 on " + n.selfInfo());
                assertArrayEquals(Arrays.copyOfRange(data, 4 * MiB, 8 * MiB), local(n, deleted, 4 * MiB),
                        "object 1 on " + n.selfInfo());
            }

            Result again = kelpie(c.node(1), "cluster", "check");
            assertEquals(0, again.rc(), again.out() + again.err());
            assertFalse(again.out().contains("repaired "), again.out());
            assertTrue(again.out().contains(": 0 repaired, 0 unrepairable; consistent"), again.out());
            Result json = kelpie(c.node(0), "vdi", "check", "--json", "disk");
            assertEquals(0, json.rc(), json.err());
            assertTrue(json.out().contains("\"repaired\":0") && json.out().contains("\"consistent\":true"), json.out());
        });
    }

    @Test
    void aCopyOnANodeThatIsNotAReplicaIsRemovedAndNoGoodCopyIsReported() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(4);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            c.node(0).vdis().create("disk", 64L * MiB, 0);
            byte[] data = random(4 * MiB, 8);
            write(c.node(0).vdis(), "disk", 0, data);
            c.awaitRecovered(20_000);
            long oid = ObjectIds.dataOid(c.node(0).vdis().lookup("disk").vdiId(), 0);
            List<String> ring = c.node(0).holders(oid, 2);
            Node outsider = c.running().stream().filter(n -> !ring.contains(n.selfInfo().address())).findFirst().orElseThrow();
            outsider.store().write(oid, 0, ByteBuffer.wrap(new byte[] {1, 2, 3}));

            Result r = kelpie(c.node(0), "vdi", "check", "disk");
            assertEquals(0, r.rc(), r.out() + r.err());
            assertTrue(r.out().contains("removed extra copy of " + ObjectIds.toHex(oid) + " on " + outsider.selfInfo().address()),
                    r.out());
            assertFalse(outsider.store().exists(oid));
            assertArrayEquals(data, local(byAddress(c, ring.get(0)), oid, 4 * MiB));

            // Both replicas gone: reported (exit 5), nothing invented.
            for (String a : ring) {
                byAddress(c, a).store().remove(oid);
            }
            Result lost = kelpie(c.node(0), "vdi", "check", "disk");
            assertEquals(5, lost.rc(), lost.out() + lost.err());
            assertTrue(lost.out().contains("cannot repair " + ObjectIds.toHex(oid) + ": no node has a copy"), lost.out());
            assertTrue(lost.out().contains("NOT consistent"), lost.out());
        });
    }
}
