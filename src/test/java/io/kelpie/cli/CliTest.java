package io.kelpie.cli;

import io.kelpie.node.Node;
import io.kelpie.node.NodeOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI in-process (Main.run) against an in-process node, checked the way a user would. */
class CliTest {
    @TempDir
    static Path dir;
    static Node node;
    static String addr;

    record Result(int rc, byte[] out, String err) {
        String text() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        node = new Node(new NodeOptions(dir, "127.0.0.1", 0, 0, List.of(), null, 0, 0, 4)).start();
        addr = "127.0.0.1:" + node.peerPort();
        Result r = kelpie("cluster", "format");
        assertEquals(0, r.rc(), r.err());
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    static Result kelpie(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] withAddr = args;
        if (args.length > 1 && !Arrays.asList(args).contains("--help") && !args[0].equals("help")) {
            withAddr = Arrays.copyOf(args, args.length + 2);
            withAddr[args.length] = "-a";
            withAddr[args.length + 1] = addr;
        }
        int rc = Main.run(new ByteArrayInputStream(stdin), out, err, withAddr);
        return new Result(rc, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    static Result kelpie(String... args) {
        return kelpie(new byte[0], args);
    }

    /** A failure prints exactly one line, "kelpie: ...", and exits non-zero. */
    static void assertFails(int rc, String expected, Result r) {
        assertEquals(rc, r.rc(), r.err());
        assertTrue(r.err().startsWith("kelpie: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in: " + r.err());
        assertEquals(0, r.out().length, "nothing on stdout on failure");
    }

    @Test
    void writeThenReadBackByteForByte() {
        assertEquals(0, kelpie("vdi", "create", "rw", "20M").rc());
        byte[] data = new byte[9 << 20];
        new Random(7).nextBytes(data);
        Result w = kelpie(data, "vdi", "write", "rw", "3M");
        assertEquals(0, w.rc(), w.err());
        Result r = kelpie("vdi", "read", "rw", "3M", String.valueOf(data.length));
        assertEquals(0, r.rc(), r.err());
        assertArrayEquals(data, r.out());
        Result head = kelpie("vdi", "read", "rw", "0", "3M");
        assertArrayEquals(new byte[3 << 20], head.out(), "unwritten range reads as zeros");
        assertEquals(20 << 20, kelpie("vdi", "read", "rw").out().length, "no LENGTH: to the end");

        Result obj = kelpie("vdi", "object", "rw", "-i", "1");
        assertEquals(0, obj.rc(), obj.err());
        assertTrue(obj.text().contains(String.format("%016x", (long) io.kelpie.vdi.VdiManager.hashVid("rw") << 32 | 1)), obj.text());
        assertTrue(obj.text().contains(addr), obj.text());
        assertTrue(kelpie("vdi", "object", "rw", "-i", "4").text().contains("not allocated"));
        Result all = kelpie("vdi", "object", "rw", "--json");
        assertEquals(3, all.text().split("\"index\"").length - 1, all.text()); // bytes 3M..12M: objects 0, 1, 2
    }

    @Test
    void writePastTheEndChangesNothing() {
        assertEquals(0, kelpie("vdi", "create", "small", "1M").rc());
        byte[] tooMuch = new byte[(1 << 20) + 1];
        Arrays.fill(tooMuch, (byte) 7);
        assertFails(15, "longer than", kelpie(tooMuch, "vdi", "write", "small"));
        assertFails(15, "ends at", kelpie(tooMuch, "vdi", "write", "small", "0", "2M"));
        assertFails(15, "beyond the end", kelpie(new byte[1], "vdi", "write", "small", "2M"));
        assertArrayEquals(new byte[1 << 20], kelpie("vdi", "read", "small").out());
        assertFails(12, "only 1 of the 10 bytes", kelpie(new byte[1], "vdi", "write", "small", "0", "10"));
    }

    @Test
    void listShowsVdisAsJsonWithEscapedNames() {
        String odd = "we\"ird\\ name \u00fc";
        assertEquals(0, kelpie("vdi", "create", odd, "1G", "--copies", "1").rc());
        Result r = kelpie("vdi", "list", "--json");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.text().contains("\"name\":\"we\\\"ird\\\\ name \u00fc\""), r.text());
        assertTrue(r.text().contains("\"size\":1073741824"), r.text());
        assertTrue(r.text().trim().startsWith("[") && r.text().trim().endsWith("]"));
        Result table = kelpie("vdi", "list");
        assertTrue(table.text().contains("1 GiB"), table.text());
    }

    @Test
    void badInputIsRefusedWithOneClearLine() {
        assertEquals(0, kelpie("vdi", "create", "dup", "10M").rc());
        assertFails(14, "VDI 'dup' already exists", kelpie("vdi", "create", "dup", "10M"));
        assertFails(13, "no VDI named 'ghost'", kelpie("vdi", "delete", "ghost"));
        assertFails(13, "no VDI named 'ghost'", kelpie("vdi", "read", "ghost"));
        assertFails(12, "longer than 256 bytes", kelpie("vdi", "create", "x".repeat(257), "1M"));
        assertFails(12, "greater than 0", kelpie("vdi", "create", "zero", "0"));
        assertFails(12, "exceeds the maximum", kelpie("vdi", "create", "huge", String.valueOf((4L << 40) + 1)));
        assertFails(2, "invalid size", kelpie("vdi", "create", "huge", "4X"));
        assertFails(12, "exceeds the maximum", kelpie("vdi", "create", "huge", "5T"));
        assertFails(12, "cannot shrink", kelpie("vdi", "resize", "dup", "5M"));
        assertFails(12, "beyond the end", kelpie("vdi", "read", "dup", "11M"));
        assertFails(2, "Missing required parameter", kelpie("vdi", "create", "onlyname"));
        assertFails(18, "already formatted", kelpie("cluster", "format"));
        Result list = kelpie("vdi", "list", "--json");
        assertTrue(!list.text().contains("zero") && !list.text().contains("huge"), list.text());
        assertTrue(list.text().contains("\"name\":\"dup\",") && list.text().contains("\"size\":10485760"), list.text());
    }

    @Test
    void resizeGrowsAndDeleteRemoves() {
        assertEquals(0, kelpie("vdi", "create", "grow", "1M").rc());
        assertEquals(0, kelpie(new byte[] {1, 2, 3}, "vdi", "write", "grow", "1048573").rc());
        Result r = kelpie("vdi", "resize", "grow", "2M");
        assertEquals(0, r.rc(), r.err());
        byte[] tail = kelpie("vdi", "read", "grow", "1048573", "5").out();
        assertArrayEquals(new byte[] {1, 2, 3, 0, 0}, tail);
        assertEquals(0, kelpie("vdi", "delete", "grow").rc());
        assertFails(13, "no VDI named 'grow'", kelpie("vdi", "list", "grow"));
    }

    @Test
    void unreachableNodeAndBadAddress() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), err,
                "vdi", "list", "-a", "127.0.0.1:" + port);
        assertEquals(3, rc);
        assertEquals("kelpie: cannot connect to node at 127.0.0.1:" + port + ": Connection refused\n",
                err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, Main.run(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(), err,
                "vdi", "list", "-a", "127.0.0.1:70000"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("invalid address"));
    }

    @Test
    void clusterAndNodeInfo() {
        Result info = kelpie("cluster", "info", "--json");
        assertEquals(0, info.rc(), info.err());
        assertTrue(info.text().contains("\"formatted\":true") && info.text().contains("\"epoch\":1"), info.text());
        assertTrue(info.text().contains(addr), info.text());
        Result text = kelpie("cluster", "info");
        assertTrue(text.text().contains("Copies: 1") && text.text().contains("Epoch: 1"), text.text());
        Result nodes = kelpie("node", "list");
        assertTrue(nodes.text().contains(addr), nodes.text());
        Result ninfo = kelpie("node", "info", "--json");
        assertTrue(ninfo.text().contains("\"objects\":"), ninfo.text());
    }

    @Test
    void everyCommandExplainsItself() {
        for (String[] cmd : new String[][] {{"--help"}, {"cluster", "--help"}, {"cluster", "format", "--help"},
                {"vdi", "create", "--help"}, {"vdi", "write", "--help"}, {"vdi", "read", "--help"},
                {"vdi", "object", "--help"}, {"node", "list", "--help"}, {"node", "run", "--help"}}) {
            Result r = kelpie(cmd);
            assertEquals(0, r.rc(), String.join(" ", cmd));
            assertTrue(r.text().startsWith("Usage: kelpie"), r.text());
            assertTrue(r.err().isEmpty(), r.err());
        }
        assertTrue(kelpie("vdi", "create", "--help").text().contains("SIZE"));
        assertTrue(kelpie("vdi", "create", "--help").text().contains("default: 127.0.0.1:7000"));
    }
}
