package io.kelpie.frontend;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Transports;
import io.kelpie.node.ConnectionLimits;
import io.kelpie.node.Node;
import io.kelpie.node.NodeOptions;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A real node with small limits (3 NBD connections, 2 peer connections, a 1 s handshake), met by
 * raw sockets: the connection over a limit is closed at once, idle handshakes are dropped after the
 * bound and give their slots back, and a client in transmission is kept however idle it is.
 */
class ConnectionLimitTest {
    private static final int MAX = 3;
    @TempDir
    static Path dir;
    static Node node;
    static int nbdPort;

    @BeforeAll
    static void start() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            nbdPort = s.getLocalPort();
        }
        node = new Node(new NodeOptions(dir.resolve("node"), "127.0.0.1", 0, nbdPort, List.of(), null, 0, 0, 4))
                .limits(new ConnectionLimits(MAX, 2, 1)).start();
        node.format(1, false);
        node.vdis().create("disk", 8L << 20, 0);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Reads the 18-byte greeting of an admitted NBD connection. */
    private static void greeting(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        assertEquals(NBDMAGIC, in.readLong());
        assertEquals(IHAVEOPT, in.readLong());
        in.readUnsignedShort();
    }

    /** The server closed this connection (EOF or reset) within the socket's timeout. */
    private static boolean closedByServer(Socket s) throws IOException {
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (SocketException e) {
            return true; // reset
        }
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!cond.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(20);
        }
    }

    /** Handshake to export "disk", write {@code data} at {@code offset}, read it back. */
    private static byte[] writeAndRead(Socket s, long offset, byte[] data) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        greeting(s);
        enterTransmission(in, out);
        return roundTrip(in, out, offset, data);
    }

    private static void enterTransmission(DataInputStream in, DataOutputStream out) throws IOException {
        out.writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        byte[] name = "disk".getBytes(StandardCharsets.UTF_8);
        out.writeLong(IHAVEOPT);
        out.writeInt(NBD_OPT_EXPORT_NAME);
        out.writeInt(name.length);
        out.write(name);
        out.flush();
        assertEquals(8L << 20, in.readLong());
        in.readUnsignedShort();
    }

    private static byte[] roundTrip(DataInputStream in, DataOutputStream out, long offset, byte[] data) throws IOException {
        request(out, NBD_CMD_WRITE, 1, offset, data.length);
        out.write(data);
        out.flush();
        assertEquals(NBD_SIMPLE_REPLY_MAGIC, in.readInt());
        assertEquals(0, in.readInt());
        assertEquals(1, in.readLong());
        request(out, NBD_CMD_READ, 2, offset, data.length);
        out.flush();
        assertEquals(NBD_SIMPLE_REPLY_MAGIC, in.readInt());
        assertEquals(0, in.readInt());
        assertEquals(2, in.readLong());
        byte[] got = new byte[data.length];
        in.readFully(got);
        return got;
    }

    private static void request(DataOutputStream out, int type, long cookie, long offset, int length) throws IOException {
        out.writeInt(NBD_REQUEST_MAGIC);
        out.writeShort(0);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(length);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void theConnectionOverTheLimitIsClosedAndIdleHandshakesMakeRoomAgain() throws Exception {
        await("no connection left from another test", () -> node.nbdServer().openConnections() == 0);
        long refusedBefore = node.nbdServer().refusedConnections();
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < MAX; i++) {
                Socket s = connect(nbdPort);
                greeting(s); // admitted: then it sends nothing more
                idle.add(s);
            }
            try (Socket over = connect(nbdPort)) {
                assertTrue(closedByServer(over), "the connection over the limit gets no greeting, only EOF");
            }
            assertEquals(refusedBefore + 1, node.nbdServer().refusedConnections());
            for (Socket s : idle) {
                assertTrue(closedByServer(s), "an idle handshake is dropped after the 1 s bound");
            }
            await("the dropped connections give their slots back", () -> node.nbdServer().openConnections() == 0);
            byte[] data = random(4096, 1);
            try (Socket s = connect(nbdPort)) {
                assertArrayEquals(data, writeAndRead(s, 65536, data), "a normal client gets in again");
            }
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }

    @Test
    void anIdleClientInTransmissionIsKeptPastTheHandshakeBound() throws Exception {
        await("no connection left from another test", () -> node.nbdServer().openConnections() == 0);
        try (Socket served = connect(nbdPort); Socket handshaking = connect(nbdPort)) {
            DataInputStream in = new DataInputStream(served.getInputStream());
            DataOutputStream out = new DataOutputStream(served.getOutputStream());
            greeting(served);
            enterTransmission(in, out);
            greeting(handshaking);
            // the handshake bound has passed once the one that never finished is dropped
            assertTrue(closedByServer(handshaking));
            byte[] data = random(1000, 2);
            assertArrayEquals(data, roundTrip(in, out, 12345, data), "the idle client in transmission is still served");
            assertEquals(1, node.nbdServer().openConnections());
        }
    }

    @Test
    void thePeerPortHasALimitOfItsOwn() throws Exception {
        int port = node.peerPort();
        EventLoopGroup group = Transports.group(1);
        try (Socket a = connect(port); Socket b = connect(port)) {
            a.setSoTimeout(300);
            assertFalse(closedByServer(a), "within the limit: kept open");
            try (Socket over = connect(port)) {
                assertTrue(closedByServer(over), "the third peer connection is closed at once");
            }
            // NBD is counted apart: the peer port being full keeps no NBD client out
            try (Socket s = connect(nbdPort)) {
                byte[] data = random(512, 3);
                assertArrayEquals(data, writeAndRead(s, 0, data));
            }
            a.close();
            await("a's slot is free again and a real client is served", () -> {
                try (PeerClient client = PeerClient.connect("127.0.0.1:" + port, group, Duration.ofSeconds(2))) {
                    client.send(PeerRequest.of(PeerConstants.FLUSH, 0, 0, 0, 0, 0)).join().check().release();
                    return true;
                } catch (KelpieException | java.util.concurrent.CompletionException e) {
                    return false;
                }
            });
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
