package io.kelpie.cli;

import io.kelpie.node.MiniCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backup from a 3-node cluster with 2 copies, restore into a second cluster (one node): the bytes
 * of every snapshot and of the VDI are the source's; a corrupt, truncated or wrong-base stream is
 * refused and leaves the catalogue and the bytes as they were.
 */
@Timeout(240)
class BackupRestoreClusterTest {
    private static final int MiB = 1 << 20;
    private static final int SIZE = 20 * MiB;

    @TempDir
    Path root;

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

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void put(String addr, byte[] model, int at, byte[] data) {
        ok(addr, data, "vdi", "write", "vm", String.valueOf(at));
        System.arraycopy(data, 0, model, at, data.length);
    }

    private static void refused(String addr, byte[] stream, String expected, String... args) {
        byte[] listBefore = ok(addr, new byte[0], "vdi", "list", "--json");
        byte[] bytesBefore = ok(addr, new byte[0], "vdi", "read", "vm");
        Run r = kelpie(addr, stream, args);
        assertNotEquals(0, r.rc(), "accepted: " + expected);
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        assertArrayEquals(listBefore, ok(addr, new byte[0], "vdi", "list", "--json"), "catalogue changed: " + expected);
        assertArrayEquals(bytesBefore, ok(addr, new byte[0], "vdi", "read", "vm"), "bytes changed: " + expected);
    }

    @Test
    void roundTripFromThreeNodesWithTwoCopiesToAnotherCluster() throws Exception {
        new MiniCluster(root.resolve("a"), false).run(a -> new MiniCluster(root.resolve("b"), false).run(b -> {
            a.start(3);
            a.awaitSettled(10_000);
            a.node(0).format(2, false);
            a.awaitSettled(10_000);
            b.start(1);
            b.awaitSettled(10_000);
            b.node(0).format(1, false);
            String a0 = a.address(0);
            String a1 = a.address(1);
            String b0 = b.address(0);

            byte[] model = new byte[SIZE];
            ok(a0, new byte[0], "vdi", "create", "vm", "20M");
            put(a0, model, MiB, random(7 * MiB, 1));
            ok(a1, new byte[0], "vdi", "snapshot", "vm", "-s", "s1");
            byte[] s1 = model.clone();
            put(a0, model, 4096, random(4096, 2));
            put(a0, model, 5 * MiB + 100, random(300, 3));
            put(a0, model, 6 * MiB, new byte[8192]);       // zeros over data: must travel too
            put(a0, model, 17 * MiB, random(MiB, 4));      // an object s1 does not have
            ok(a1, new byte[0], "vdi", "snapshot", "vm", "-s", "s2");
            byte[] s2 = model.clone();
            put(a0, model, 0, random(4096, 5));
            ok(a0, new byte[0], "vdi", "snapshot", "vm", "-s", "s3");

            byte[] full = ok(a1, new byte[0], "vdi", "backup", "vm", "-s", "s1");
            byte[] inc = ok(a0, new byte[0], "vdi", "backup", "vm", "-F", "s1", "-s", "s2");
            byte[] s3inc = ok(a0, new byte[0], "vdi", "backup", "vm", "-F", "s2", "-s", "s3");
            assertTrue(inc.length < MiB + 64 * 1024, "the incremental carries blocks, not objects: " + inc.length);

            ok(b0, new byte[0], "vdi", "create", "vm", "20M");
            ok(b0, full, "vdi", "restore", "vm", "-s", "s1");
            assertArrayEquals(s1, ok(b0, new byte[0], "vdi", "read", "vm@s1"));

            byte[] corrupt = inc.clone();
            corrupt[inc.length / 2] ^= 1;
            refused(b0, corrupt, "checksum", "vdi", "restore", "vm", "-s", "s2");
            refused(b0, Arrays.copyOf(inc, inc.length - 1), "backup stream refused", "vdi", "restore", "vm", "-s", "s2");
            refused(b0, s3inc, "is not at it", "vdi", "restore", "vm", "-s", "s3");
            refused(b0, full, "empty VDI", "vdi", "restore", "vm", "-s", "again");

            ok(b0, inc, "vdi", "restore", "vm", "-s", "s2");
            ok(b0, s3inc, "vdi", "restore", "vm", "-s", "s3");
            assertArrayEquals(s1, ok(b0, new byte[0], "vdi", "read", "vm@s1"));
            assertArrayEquals(s2, ok(b0, new byte[0], "vdi", "read", "vm@s2"));
            assertArrayEquals(model, ok(b0, new byte[0], "vdi", "read", "vm@s3"));
            assertArrayEquals(model, ok(b0, new byte[0], "vdi", "read", "vm"));
            // and the source still reads as the model through another node
            assertArrayEquals(s2, ok(a1, new byte[0], "vdi", "read", "vm@s2"));
        }));
    }
}
