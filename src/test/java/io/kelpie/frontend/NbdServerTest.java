package io.kelpie.frontend;

import io.kelpie.node.Node;
import io.kelpie.node.NodeOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/** A real node on free ports, driven by libnbd (python3-libnbd) and by raw sockets. */
class NbdServerTest {
    private static final long SIZE = 64L << 20;
    @TempDir
    static Path dir;
    static Node node;
    static int nbdPort;

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @BeforeAll
    static void start() throws IOException {
        nbdPort = freePort();
        int peer = freePort();
        node = new Node(new NodeOptions(dir.resolve("node"), "127.0.0.1", peer, nbdPort, List.of(), null, 0,
                freePort(), 4)).start();
        node.format(1, false);
        node.vdis().create("disk", SIZE, 0);
        node.vdis().create("other", 8L << 20, 0);
        node.vdis().create("disk-f", SIZE, 0);
        node.vdis().create("other-f", 8L << 20, 0);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    /** A client on this host: large reads are copied ({@link FileReads#REMOTE}). */
    @Test
    void libnbdClientSeesACompleteServer() throws Exception {
        libnbdCheck("disk", "other");
    }

    /** The same with every large read sent from the object's file. */
    @Test
    void libnbdClientSeesACompleteServerWithReadsFromFiles() throws Exception {
        System.setProperty(FileReads.PROPERTY, "always");
        try {
            libnbdCheck("disk-f", "other-f");
        } finally {
            System.clearProperty(FileReads.PROPERTY);
        }
    }

    private static void libnbdCheck(String disk, String other) throws Exception {
        Path script = dir.resolve("libnbd_check.py");
        if (!Files.exists(script)) {
            try (var in = NbdServerTest.class.getResourceAsStream("/nbd/libnbd_check.py")) {
                Files.copy(in, script);
            }
        }
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), "127.0.0.1", String.valueOf(nbdPort),
                disk, String.valueOf(SIZE), other).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("ALL OK"), out);
    }

    /** Handshake by hand with simple replies, then garbage: only that connection dies. */
    @Test
    void rawClientAndBadMagicOnlyKillsItsConnection() throws Exception {
        try (Socket s = new Socket("127.0.0.1", nbdPort)) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            assertEquals(NBDMAGIC, in.readLong());
            assertEquals(IHAVEOPT, in.readLong());
            in.readUnsignedShort();
            out.writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
            byte[] name = "other".getBytes(StandardCharsets.UTF_8);
            out.writeLong(IHAVEOPT);
            out.writeInt(NBD_OPT_EXPORT_NAME);
            out.writeInt(name.length);
            out.write(name);
            assertEquals(8L << 20, in.readLong());
            int flags = in.readUnsignedShort();
            assertEquals(0, flags & NBD_FLAG_SEND_DF, "no DF without structured replies");
            // write 4 bytes, read them back with simple replies
            out.writeInt(NBD_REQUEST_MAGIC);
            out.writeShort(0);
            out.writeShort(NBD_CMD_WRITE);
            out.writeLong(1);
            out.writeLong(12345);
            out.writeInt(4);
            out.write(new byte[]{9, 8, 7, 6});
            out.flush();
            // replies may come in any order: wait for the write before reading it back
            assertEquals(NBD_SIMPLE_REPLY_MAGIC, in.readInt());
            assertEquals(0, in.readInt());
            assertEquals(1, in.readLong());
            out.writeInt(NBD_REQUEST_MAGIC);
            out.writeShort(0);
            out.writeShort(NBD_CMD_READ);
            out.writeLong(2);
            out.writeLong(12345);
            out.writeInt(4);
            out.flush();
            assertEquals(NBD_SIMPLE_REPLY_MAGIC, in.readInt());
            assertEquals(0, in.readInt());
            assertEquals(2, in.readLong());
            byte[] got = new byte[4];
            in.readFully(got);
            assertArrayEquals(new byte[]{9, 8, 7, 6}, got);
            // a 4 GiB write: the server drops this connection rather than buffer it
            out.writeInt(NBD_REQUEST_MAGIC);
            out.writeShort(0);
            out.writeShort(NBD_CMD_WRITE);
            out.writeLong(3);
            out.writeLong(0);
            out.writeInt(-1);
            out.flush();
            s.setSoTimeout(10_000);
            assertEquals(-1, in.read(), "connection closed");
        }
        // everyone else is still served
        try (Socket s = new Socket("127.0.0.1", nbdPort)) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertEquals(NBDMAGIC, in.readLong());
        }
    }
}
