package io.kelpie.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packaged jar as a user runs it: a real node process driven by real CLI processes, killed
 * with SIGKILL in the middle of a write workload and restarted. Every write the CLI acknowledged
 * (exit 0) before the kill must read back byte for byte afterwards.
 */
class KelpieProcessIT {
    private static final long VDI_SIZE = 64L << 20;

    @TempDir
    Path tmp;
    private Path jar;
    private Path dataDir;
    private int port;
    private Process node;
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        jar = Path.of(System.getProperty("kelpie.jar", "target/kelpie.jar"));
        assertTrue(Files.isRegularFile(jar), "build the jar first: " + jar);
        dataDir = tmp.resolve("data");
        port = freePort();
    }

    @AfterEach
    void tearDown() {
        for (Process p : started) {
            p.destroyForcibly();
        }
    }

    @Test
    void acknowledgedWritesSurviveSigkill() throws Exception {
        startNode();
        assertOk(cli(null, "cluster", "format"));
        assertOk(cli(null, "vdi", "create", "crash", "64M"));

        byte[] model = new byte[(int) VDI_SIZE];
        BitSet uncertain = new BitSet((int) VDI_SIZE);
        Random rnd = new Random(42);

        // a first write through stdin from a file, read back and compared
        byte[] first = new byte[10 << 20];
        rnd.nextBytes(first);
        Path firstFile = tmp.resolve("first");
        Files.write(firstFile, first);
        assertOk(cli(firstFile, "vdi", "write", "crash", "1M"));
        System.arraycopy(first, 0, model, 1 << 20, first.length);
        verify(model, uncertain);

        for (int round = 0; round < 3; round++) {
            AtomicBoolean killed = new AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger ackedSoFar = new java.util.concurrent.atomic.AtomicInteger();
            int acked = 0;
            long killDelay = TimeUnit.MILLISECONDS.toNanos(500 + rnd.nextInt(2000));
            Thread killer = new Thread(() -> {
                // The clock starts at the first acknowledged write: a loaded machine may take long to get there.
                while (ackedSoFar.get() == 0) {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                long killAt = System.nanoTime() + killDelay;
                while (System.nanoTime() < killAt) {
                    Thread.onSpinWait();
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                killed.set(true);
                node.destroyForcibly();
            });
            killer.setDaemon(true);
            killer.start();
            while (!killed.get()) {
                int len = (1 << 20) + rnd.nextInt(8 << 20);
                int off = rnd.nextInt((int) VDI_SIZE - len);
                byte[] chunk = new byte[len];
                rnd.nextBytes(chunk);
                Path f = tmp.resolve("chunk");
                Files.write(f, chunk);
                // until acknowledged, the range may hold old bytes, new bytes or a mix
                uncertain.set(off, off + len);
                Result r = cli(f, "vdi", "write", "crash", String.valueOf(off));
                if (r.rc == 0) {
                    System.arraycopy(chunk, 0, model, off, len);
                    uncertain.clear(off, off + len);
                    acked++;
                    ackedSoFar.incrementAndGet();
                } else if (!killed.get()) {
                    fail("write failed while the node was up: " + r.err);
                }
            }
            killer.join();
            node.waitFor(30, TimeUnit.SECONDS);
            assertTrue(acked > 0, "round " + round + ": no write was acknowledged before the kill");

            startNode();
            Result list = cli(null, "vdi", "list", "--json");
            assertOk(list);
            assertTrue(list.out().contains("\"name\":\"crash\"") && list.out().contains("\"size\":" + VDI_SIZE), list.out());
            verify(model, uncertain);
        }
    }

    @Test
    void secondNodeOnTheSameDirectoryIsRefused() throws Exception {
        startNode();
        int otherPort = freePort();
        ProcessBuilder pb = new ProcessBuilder("java", "-jar", jar.toString(), "node", "run", "--dir", dataDir.toString(),
                "--port", String.valueOf(otherPort), "--nbd-port", "0");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process second = pb.start();
        started.add(second);
        assertTrue(second.waitFor(60, TimeUnit.SECONDS), "second node should exit at once");
        String err = new String(second.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, second.exitValue());
        assertTrue(err.contains("in use by another kelpie node"), err);
        assertTrue(node.isAlive(), "the first node must keep running");
        assertOk(cli(null, "cluster", "info"));
    }

    // ---- helpers

    record Result(int rc, String out, byte[] raw, String err) {
    }

    private void verify(byte[] model, BitSet uncertain) throws Exception {
        Path out = tmp.resolve("readback");
        Result r = cli(null, out, "vdi", "read", "crash", "0", String.valueOf(VDI_SIZE));
        assertOk(r);
        byte[] got = Files.readAllBytes(out);
        assertEquals(model.length, got.length);
        for (int i = 0; i < model.length; i++) {
            if (got[i] != model[i] && !uncertain.get(i)) {
                fail("byte " + i + " differs after restart: expected " + model[i] + " got " + got[i]);
            }
        }
    }

    private void startNode() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("java", "-jar", jar.toString(), "node", "run", "--dir", dataDir.toString(),
                "--port", String.valueOf(port), "--nbd-port", "0");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("node.log").toFile()));
        node = pb.start();
        started.add(node);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!node.isAlive()) {
                fail("node exited: " + Files.readString(tmp.resolve("node.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        fail("node did not listen on " + port);
    }

    private Result cli(Path stdin, String... args) throws Exception {
        return cli(stdin, null, args);
    }

    private Result cli(Path stdin, Path stdout, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("java", "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        cmd.add("-a");
        cmd.add("127.0.0.1:" + port);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectInput(stdin != null ? ProcessBuilder.Redirect.from(stdin.toFile()) : ProcessBuilder.Redirect.PIPE);
        Path out = stdout != null ? stdout : tmp.resolve("cli.out");
        Path err = tmp.resolve("cli.err");
        pb.redirectOutput(out.toFile());
        pb.redirectError(err.toFile());
        Process p = pb.start();
        started.add(p);
        if (stdin == null) {
            p.getOutputStream().close();
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("kelpie " + String.join(" ", args) + " hung");
        }
        started.remove(p);
        byte[] raw = stdout != null ? new byte[0] : Files.readAllBytes(out);
        return new Result(p.exitValue(), new String(raw, StandardCharsets.UTF_8), raw, Files.readString(err));
    }

    private static void assertOk(Result r) {
        assertEquals(0, r.rc(), r.err());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
