package io.kelpie.cli;

import io.kelpie.common.ObjectIds;
import io.kelpie.node.MiniCluster;
import io.kelpie.store.FaultyStore;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.VdiManager;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * What the restore tests share: a MiniCluster whose stores fail chosen writes of one VDI (on every
 * replica), the CLI run in-process, and a source VDI with two snapshots to back up.
 */
abstract class RestoreTestBase {
    static final int MiB = 1 << 20;
    static final int SIZE = 20 * MiB;

    @TempDir
    Path root;

    /** Two nodes, formatted with copies 2, settled: where every restore test starts. Returns node 0's address. */
    static String twoNodes(MiniCluster c) throws Exception {
        c.start(2);
        c.awaitSettled(10_000);
        c.node(0).format(2, false);
        c.awaitSettled(10_000);
        return c.address(0);
    }

    /** Data writes of VDI {@code vid} at object index >= {@code from} fail; -1: none. */
    final AtomicInteger faultVid = new AtomicInteger(-1);
    final AtomicInteger faultFrom = new AtomicInteger();
    /** Once a data write failed, writes of the VDI's inode fail too (the undo cannot work). */
    final AtomicBoolean breakUndo = new AtomicBoolean();
    final AtomicBoolean tripped = new AtomicBoolean();
    final List<FaultyStore> stores = new CopyOnWriteArrayList<>();

    record Run(int rc, byte[] out, String err) {
    }

    static Run kelpie(String addr, byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] a = Arrays.copyOf(args, args.length + 2);
        a[args.length] = "-a";
        a[args.length + 1] = addr;
        int rc = Main.run(new ByteArrayInputStream(stdin), out, err, a);
        return new Run(rc, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    static byte[] ok(String addr, byte[] stdin, String... args) {
        Run r = kelpie(addr, stdin, args);
        assertEquals(0, r.rc(), String.join(" ", args) + ": " + r.err());
        return r.out();
    }

    static String failed(String addr, byte[] stdin, String... args) {
        Run r = kelpie(addr, stdin, args);
        assertNotEquals(0, r.rc(), "accepted: " + String.join(" ", args));
        assertEquals(1, r.err().lines().count(), r.err());
        return r.err();
    }

    static byte[] random(int n, long seed) {
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

    void fault(VdiManager vdis, String name, int fromIndex) {
        faultFrom.set(fromIndex);
        faultVid.set(vdis.lookup(name).vdiId());
    }

    void heal() {
        faultVid.set(-1);
        breakUndo.set(false);
        tripped.set(false);
    }

    MiniCluster cluster() {
        return new MiniCluster(root, false).wrapStores(s -> {
            FaultyStore f = new FaultyStore(s).failWrites(this::injected);
            stores.add(f);
            return f;
        });
    }

    /** A source VDI with snapshots s1 and s2 (s2: a block in object 2, a new object 4); returns {s1, s2}. */
    static byte[][] source(String a0) {
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

    static void assertEmptyOwnObjects(VdiManager vdis, String name) {
        Inode in = vdis.lookup(name);
        long own = vdis.allocatedObjects(name).values().stream().filter(v -> v == in.vdiId()).count();
        assertEquals(0, own, "objects of its own left in " + name);
    }
}
