package io.kelpie.node;

import io.kelpie.common.KelpieException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/** A node with --metrics: NBD traffic moves its VDI's counters by exactly its bytes, and a deleted VDI's series go. */
class NodeMetricsTest {
    private static final int CHUNK = 64 << 10;
    private static final int WRITES = 24;
    @TempDir
    Path dir;
    private Node node;
    private int nbdPort;
    private final HttpClient http = HttpClient.newHttpClient();

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeEach
    void start() throws IOException {
        nbdPort = freePort();
        node = new Node(new NodeOptions(dir.resolve("n"), "127.0.0.1", freePort(), nbdPort, List.of(), null, 0,
                freePort(), 4)).metrics(new InetSocketAddress("127.0.0.1", 0)).start();
        node.format(1, false);
        node.vdis().create("disk", 16L << 20, 0);
    }

    @AfterEach
    void stop() {
        if (node != null) {
            node.close();
        }
    }

    private String scrape() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + node.metricsAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    private static double value(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    private String awaitScrape(Predicate<String> ok, String what) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        String t = scrape();
        while (!ok.test(t)) {
            assertTrue(System.nanoTime() < deadline, what + ":\n" + t);
            Thread.sleep(50);
            t = scrape();
        }
        return t;
    }

    @Test
    void nbdTrafficMovesItsVdisCountersByItsBytes() throws Exception {
        byte[] data = new byte[CHUNK];
        new Random(7).nextBytes(data);
        try (Socket s = new Socket("127.0.0.1", nbdPort)) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            in.readLong();
            in.readLong();
            in.readUnsignedShort();
            out.writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
            byte[] name = "disk".getBytes(StandardCharsets.UTF_8);
            out.writeLong(IHAVEOPT);
            out.writeInt(NBD_OPT_EXPORT_NAME);
            out.writeInt(name.length);
            out.write(name);
            out.flush();
            assertEquals(16L << 20, in.readLong());
            in.readUnsignedShort();
            for (int i = 0; i < WRITES; i++) {
                request(out, NBD_CMD_WRITE, i, (long) i * CHUNK, CHUNK);
                out.write(data);
            }
            request(out, NBD_CMD_READ, 100, 5L * CHUNK, CHUNK);
            out.flush();
            byte[] got = null;
            for (int i = 0; i <= WRITES; i++) {
                assertEquals(NBD_SIMPLE_REPLY_MAGIC, in.readInt());
                assertEquals(0, in.readInt());
                if (in.readLong() == 100) {
                    got = new byte[CHUNK];
                    in.readFully(got);
                }
            }
            assertArrayEquals(data, got);
            request(out, NBD_CMD_DISC, 101, 0, 0);
            out.flush();
        }
        String t = awaitScrape(x -> value(x, "kelpie_nbd_bytes_total{command=\"write\",vdi=\"disk\"}") == (double) WRITES * CHUNK,
                "the VDI's write bytes are the bytes written");
        assertEquals(WRITES, value(t, "kelpie_nbd_requests_total{command=\"write\",vdi=\"disk\"}"));
        assertEquals(CHUNK, value(t, "kelpie_nbd_bytes_total{command=\"read\",vdi=\"disk\"}"));
        assertEquals(0, value(t, "kelpie_nbd_errors_total{command=\"write\",vdi=\"disk\"}"));
        assertEquals(WRITES, value(t, "kelpie_nbd_request_seconds_count{command=\"write\",vdi=\"disk\"}"));
        assertTrue(value(t, "kelpie_store_bytes_used") >= (double) WRITES * CHUNK, t);
        assertTrue(value(t, "kelpie_store_bytes_free") > 0, t);
        assertEquals(0, value(t, "kelpie_recovery_objects_remaining"));

        // the connection's handle is released on a thread of its own: delete once it is
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            try {
                node.vdis().delete("disk");
                break;
            } catch (KelpieException e) {
                assertTrue(System.nanoTime() < deadline, e.getMessage());
                Thread.sleep(50);
            }
        }
        awaitScrape(x -> !x.contains("vdi=\"disk\""), "a deleted VDI's series are removed");
    }

    private static void request(DataOutputStream out, int type, long cookie, long offset, int length) throws IOException {
        out.writeInt(NBD_REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(length);
    }
}
