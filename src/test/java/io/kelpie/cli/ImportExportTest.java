package io.kelpie.cli;

import io.kelpie.backup.BlockDiff;
import io.kelpie.node.Node;
import io.kelpie.node.NodeOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static io.kelpie.cli.RestoreTestBase.failed;
import static io.kelpie.cli.RestoreTestBase.kelpie;
import static io.kelpie.cli.RestoreTestBase.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** vdi import / export in-process against an in-process node: bytes, allocation, sparseness, refusals. */
class ImportExportTest {
    static final int MiB = 1 << 20;
    static final byte[] NONE = new byte[0];

    @TempDir
    static Path dir;
    static Node node;
    static String addr;

    @BeforeAll
    static void start() throws Exception {
        node = new Node(new NodeOptions(dir.resolve("node"), "127.0.0.1", 0, 0, List.of(), null, 0, 0, 4)).start();
        addr = "127.0.0.1:" + node.peerPort();
        ok(addr, NONE, "cluster", "format");
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    /** A 40 MiB sparse file: random data in objects 0, 2, 7 and 8, real zero bytes written over object 4, holes elsewhere. */
    static Path image(String name) throws IOException {
        Path p = dir.resolve(name);
        Random rnd = new Random(name.hashCode());
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(40 * MiB);
            put(f, rnd, 0, MiB);
            put(f, rnd, 9 * MiB + 100, 5000);
            put(f, rnd, 30 * MiB, 4 * MiB);
            f.seek(16 * MiB);
            f.write(new byte[4 * MiB]);
        }
        return p;
    }

    private static void put(RandomAccessFile f, Random rnd, long at, int n) throws IOException {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        f.seek(at);
        f.write(b);
    }

    static Set<Long> objects(String vdi) {
        try (AdminClient c = AdminClient.connect(addr)) {
            return new TreeSet<>(VdiBackupCommand.objects(c, vdi).keySet());
        }
    }

    @Test
    void rawImportSkipsZerosAndReadsBackEqual() throws IOException {
        Path img = image("a.raw");
        byte[] out = ok(addr, NONE, "vdi", "import", "a", img.toString(), "--create");
        assertTrue(new String(out).contains("imported"), new String(out));
        assertEquals(Set.of(0L, 2L, 7L, 8L), objects("a"), "only the objects with non-zero bytes are allocated");
        assertArrayEquals(Files.readAllBytes(img), ok(addr, NONE, "vdi", "read", "a"), "the VDI reads as the image");
    }

    @Test
    void exportIsSparseAndEqualToFileStdoutAndSnapshot() throws IOException {
        Path img = image("b.raw");
        byte[] want = Files.readAllBytes(img);
        ok(addr, NONE, "vdi", "import", "b", img.toString(), "--create", "--quiet");
        Path got = dir.resolve("b.out");
        Files.write(got, new byte[50 * MiB]); // replaced, not written over: nothing of it may remain
        ok(addr, NONE, "vdi", "export", "b", got.toString());
        assertArrayEquals(want, Files.readAllBytes(got));
        long onDisk = blocks(got) * 512;
        assertTrue(onDisk < 16 * MiB, "a mostly empty VDI exports sparse: " + onDisk + " bytes on disk");
        assertArrayEquals(want, ok(addr, NONE, "vdi", "export", "b", "-"), "to stdout");

        ok(addr, NONE, "vdi", "snapshot", "b", "-s", "s1");
        ok(addr, new byte[MiB], "vdi", "write", "b", "0"); // b changes, b@s1 does not
        Path snap = dir.resolve("b-s1.out");
        ok(addr, NONE, "vdi", "export", "b@s1", snap.toString(), "-q");
        assertArrayEquals(want, Files.readAllBytes(snap), "the snapshot as it was");
    }

    @Test
    void importOverOldDataLeavesNoneOfIt() throws IOException {
        ok(addr, NONE, "vdi", "create", "c", "44M");
        byte[] old = new byte[44 * MiB];
        Arrays.fill(old, (byte) 0xee);
        ok(addr, old, "vdi", "write", "c");
        Path img = image("c.raw");
        ok(addr, NONE, "vdi", "import", "c", img.toString());
        byte[] want = Arrays.copyOf(Files.readAllBytes(img), 44 * MiB);
        Arrays.fill(want, 40 * MiB, 44 * MiB, (byte) 0xee); // past the image: left as it was
        assertArrayEquals(want, ok(addr, NONE, "vdi", "read", "c"));
        assertEquals(Set.of(0L, 2L, 7L, 8L, 10L), objects("c"),
                "objects all zero in the image (1, 4, ...) are trimmed away; 10, past the image, stays");
    }

    @Test
    void sizeAndTargetErrorsChangeNothing() throws IOException {
        Path img = image("d.raw");
        ok(addr, NONE, "vdi", "create", "small", "8M");
        assertTrue(failed(addr, NONE, "vdi", "import", "small", img.toString()).contains("resize it"));
        assertEquals(Set.of(), objects("small"));
        assertEquals(15, kelpie(addr, NONE, "vdi", "import", "tiny", img.toString(), "--create", "10M").rc());
        assertEquals(13, kelpie(addr, NONE, "vdi", "list", "tiny").rc(), "a refused --create creates nothing");
        assertEquals(13, kelpie(addr, NONE, "vdi", "import", "missing", img.toString()).rc(), "without --create the VDI must exist");
        assertEquals(14, kelpie(addr, NONE, "vdi", "import", "small", img.toString(), "--create").rc(), "--create of an existing VDI");
        ok(addr, NONE, "vdi", "snapshot", "small", "-s", "t");
        assertEquals(16, kelpie(addr, NONE, "vdi", "import", "small@t", img.toString()).rc(), "a snapshot is read-only");
        assertEquals(4, kelpie(addr, NONE, "vdi", "import", "x", dir.resolve("nothing.raw").toString(), "--create").rc());
        ok(addr, NONE, "vdi", "create", "big", "100M");
        Path out = dir.resolve("e.qcow2");
        assertEquals(2, kelpie(addr, NONE, "vdi", "export", "big", "-", "--format", "qcow2").rc(), "qemu-img cannot write a pipe");
        assertTrue(Files.notExists(out));
    }

    @Test
    void quietIsAnOptionOfEveryCommandWithABarAndNothingIsDrawnOffATerminal() throws IOException {
        Path img = image("q.raw");
        RestoreTestBase.Run r = kelpie(addr, NONE, "vdi", "import", "q", img.toString(), "--create", "-q");
        assertEquals(0, r.rc(), r.err());
        assertEquals("", r.err());
        for (String cmd : List.of("read", "write", "export", "backup", "restore")) {
            String help = new String(ok(addr, NONE, "vdi", cmd, "--help"));
            assertTrue(help.contains("--quiet"), cmd + ": " + help);
        }
        byte[] data = new byte[5 * MiB];
        new Random(3).nextBytes(data);
        r = kelpie(addr, data, "vdi", "write", "q", "1M");
        assertEquals("", r.err(), "no bar when stderr is not a terminal");
        r = kelpie(addr, NONE, "vdi", "read", "q", "1M", "5M");
        assertArrayEquals(data, r.out());
        assertEquals("", r.err());
    }

    @Test
    void qcow2ImportAndExportRoundTrip() throws Exception {
        Assumptions.assumeTrue(QemuImg.find() != null, "qemu-img is not on PATH");
        Path q = dir.resolve("f.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", q.toString(), "24M");
        run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 64k", "-c", "write -P 0xa5 13M 3M", q.toString());
        Path raw = dir.resolve("f.raw");
        run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", q.toString(), raw.toString());
        ok(addr, NONE, "vdi", "import", "f", q.toString(), "--create");
        assertEquals(Set.of(0L, 3L), objects("f"));
        Path back = dir.resolve("f-back.qcow2");
        ok(addr, NONE, "vdi", "export", "f", back.toString(), "--format", "qcow2");
        Path back2 = dir.resolve("f-back.raw");
        run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", back.toString(), back2.toString());
        assertArrayEquals(Files.readAllBytes(raw), Files.readAllBytes(back2));
        assertTrue(failed(addr, NONE, "vdi", "import", "g", raw.toString(), "--create", "--format", "qcow2")
                .contains("qemu-img"), "a raw file said to be qcow2: qemu-img's error");
    }

    @Test
    void shortZeroGapsAreSentWithTheirData() {
        List<BlockDiff.Run> runs = List.of(new BlockDiff.Run(0, 4096), new BlockDiff.Run(8192, 4096),
                new BlockDiff.Run(1 << 20, 4096));
        assertEquals(List.of(new BlockDiff.Run(0, 12288), new BlockDiff.Run(1 << 20, 4096)), VdiImportCommand.merged(runs));
    }

    /** st_blocks (512-byte units), which Java's file attributes do not give. */
    private static long blocks(Path p) throws IOException {
        Process s = new ProcessBuilder("stat", "-c", "%b", p.toString()).start();
        return Long.parseLong(new String(s.getInputStream().readAllBytes()).strip());
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd));
    }
}
