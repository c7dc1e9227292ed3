package io.kelpie.frontend;

import io.kelpie.TestPki;
import io.kelpie.nbd.NbdTls;
import io.kelpie.node.Node;
import io.kelpie.node.NodeOptions;
import io.kelpie.vdi.VdiAcl;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.kelpie.frontend.NbdServerTest.freePort;
import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/** A real node with --tls require --tls-verify-peer, driven over JDK TLS sockets: STARTTLS, client certificates, ACLs. */
class NbdTlsServerTest {
    @TempDir
    static Path dir;
    static Node node;
    static int nbdPort;
    static Path alice;
    static Path bob;
    static Path stranger;

    @BeforeAll
    static void start() throws IOException {
        TestPki pki = TestPki.create(dir, "ca");
        Path server = pki.issue("server", "server", "localhost", "rsa-traditional");
        alice = pki.issue("alice", "client", "alice", "pkcs8");
        bob = pki.issue("bob", "client", "bob", "pkcs8");
        stranger = TestPki.create(dir, "other-ca").issue("stranger", "client", "alice", "pkcs8");
        nbdPort = freePort();
        node = new Node(new NodeOptions(dir.resolve("node"), "127.0.0.1", freePort(), nbdPort, List.of(), null, 0,
                freePort(), 4)).nbdTls(NbdTlsCredentials.load(NbdTls.Mode.REQUIRE, server, true)).start();
        node.format(1, false);
        node.vdis().create("disk", 8L << 20, 0);
        node.vdis().create("private", 8L << 20, 0);
        node.vdis().snapshot("private", "s1");
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    /** One handshake, option by option. */
    static final class Client implements AutoCloseable {
        Socket socket;
        DataInputStream in;
        DataOutputStream out;

        Client(InetAddress local) throws IOException {
            socket = new Socket();
            socket.bind(new InetSocketAddress(local, 0));
            socket.connect(new InetSocketAddress("127.0.0.1", nbdPort));
            socket.setSoTimeout(10_000);
            streams();
            assertEquals(NBDMAGIC, in.readLong());
            assertEquals(IHAVEOPT, in.readLong());
            in.readUnsignedShort();
            out.writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        }

        private void streams() throws IOException {
            in = new DataInputStream(socket.getInputStream());
            out = new DataOutputStream(socket.getOutputStream());
        }

        void option(int opt, byte[] data) throws IOException {
            out.writeLong(IHAVEOPT);
            out.writeInt(opt);
            out.writeInt(data.length);
            out.write(data);
            out.flush();
        }

        /** Reads one reply to {@code opt}: its type; its data into {@code data} if not null. */
        int reply(int opt, List<byte[]> data) throws IOException {
            assertEquals(NBD_OPTION_REPLY_MAGIC, in.readLong());
            assertEquals(opt, in.readInt());
            int type = in.readInt();
            byte[] d = new byte[in.readInt()];
            in.readFully(d);
            if (data != null) {
                data.add(d);
            }
            return type;
        }

        /** STARTTLS, then TLS with the client directory's certificate (or none) trusting its CA. */
        void startTls(Path creds, boolean withCertificate) throws IOException {
            option(NBD_OPT_STARTTLS, new byte[0]);
            assertEquals(NBD_REP_ACK, reply(NBD_OPT_STARTTLS, null));
            SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                    .trustManager(creds.resolve("ca-cert.pem").toFile());
            if (withCertificate) {
                b.keyManager(creds.resolve("client-cert.pem").toFile(), creds.resolve("client-key.pem").toFile());
            }
            SSLSocket tls = (SSLSocket) ((JdkSslContext) b.build()).context().getSocketFactory()
                    .createSocket(socket, "127.0.0.1", nbdPort, true);
            tls.setUseClientMode(true);
            tls.startHandshake();
            socket = tls;
            streams();
        }

        List<String> list() throws IOException {
            option(NBD_OPT_LIST, new byte[0]);
            List<String> names = new ArrayList<>();
            List<byte[]> data = new ArrayList<>();
            while (reply(NBD_OPT_LIST, data) == NBD_REP_SERVER) {
                byte[] d = data.remove(0);
                int len = ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
                names.add(new String(d, 4, len, StandardCharsets.UTF_8));
            }
            return names;
        }

        /** NBD_OPT_GO for {@code name}: the final reply type, and its message on error. */
        String go(String name) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(6 + n.length).putInt(n.length).put(n).putShort((short) 0);
            option(NBD_OPT_GO, b.array());
            List<byte[]> data = new ArrayList<>();
            int type;
            while ((type = reply(NBD_OPT_GO, data)) == NBD_REP_INFO) {
                data.clear();
            }
            return replyName(type) + (type == NBD_REP_ACK ? "" : ": " + new String(data.get(data.size() - 1), StandardCharsets.UTF_8));
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    static InetAddress loopback(int last) throws IOException {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) last});
    }

    @Test
    void plaintextGetsTlsRequiredAndNoList() throws IOException {
        try (Client c = new Client(loopback(1))) {
            c.option(NBD_OPT_LIST, new byte[0]);
            assertEquals(replyName(NBD_REP_ERR_TLS_REQD), replyName(c.reply(NBD_OPT_LIST, null)));
        }
    }

    @Test
    void verifiedClientReadsBackWhatItWroteOverTls() throws IOException {
        try (Client c = new Client(loopback(1))) {
            c.startTls(alice, true);
            c.option(NBD_OPT_STARTTLS, new byte[0]);
            assertEquals(replyName(NBD_REP_ERR_INVALID), replyName(c.reply(NBD_OPT_STARTTLS, null)), "STARTTLS twice");
            assertTrue(c.list().contains("disk"));
            c.option(NBD_OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
            assertEquals(8L << 20, c.in.readLong());
            c.in.readUnsignedShort();
            // 1 MiB: a read that large goes out from the file on a plaintext connection, copied under TLS
            byte[] data = new byte[1 << 20];
            new Random(7).nextBytes(data);
            c.out.writeInt(NBD_REQUEST_MAGIC);
            c.out.writeShort(0);
            c.out.writeShort(NBD_CMD_WRITE);
            c.out.writeLong(1);
            c.out.writeLong(8192);
            c.out.writeInt(data.length);
            c.out.write(data);
            c.out.flush();
            assertEquals(NBD_SIMPLE_REPLY_MAGIC, c.in.readInt());
            assertEquals(0, c.in.readInt());
            assertEquals(1, c.in.readLong());
            c.out.writeInt(NBD_REQUEST_MAGIC);
            c.out.writeShort(0);
            c.out.writeShort(NBD_CMD_READ);
            c.out.writeLong(2);
            c.out.writeLong(8192);
            c.out.writeInt(data.length);
            c.out.flush();
            assertEquals(NBD_SIMPLE_REPLY_MAGIC, c.in.readInt());
            assertEquals(0, c.in.readInt());
            assertEquals(2, c.in.readLong());
            byte[] got = new byte[data.length];
            c.in.readFully(got);
            assertArrayEquals(data, got);
        }
    }

    @Test
    void noClientCertificateOrOneOfAnotherCaFailsTheHandshake() throws IOException {
        try (Client c = new Client(loopback(1))) {
            assertThrows(IOException.class, () -> {
                c.startTls(alice, false);
                c.list(); // TLS 1.3: the server's refusal of the missing certificate may come with the first read
            });
        }
        try (Client c = new Client(loopback(1))) {
            assertThrows(IOException.class, () -> {
                c.startTls(stranger, true);
                c.list();
            });
        }
    }

    @Test
    void accessListsByCnAndAddressCoverTheVdiAndItsSnapshots() throws IOException {
        node.vdis().setAttr("private", VdiAcl.ATTRIBUTE, "allow cn:bob\nallow addr:127.0.0.2\n".getBytes(StandardCharsets.UTF_8),
                false, false);
        try {
            try (Client c = new Client(loopback(1))) {
                c.startTls(alice, true);
                List<String> names = c.list();
                assertTrue(names.contains("disk"), names.toString());
                assertFalse(names.contains("private") || names.contains("private@s1"), names.toString());
                String r = c.go("private@s1");
                assertTrue(r.startsWith("NBD_REP_ERR_POLICY: VDI 'private@s1' is not open to 127.0.0.1 (cn alice)"), r);
                r = c.go("private");
                assertTrue(r.startsWith("NBD_REP_ERR_POLICY: VDI 'private'"), r);
            }
            try (Client c = new Client(loopback(1))) {
                c.startTls(bob, true);
                assertTrue(c.list().containsAll(List.of("private", "private@s1")));
                assertEquals("NBD_REP_ACK", c.go("private@s1"));
            }
            try (Client c = new Client(loopback(2))) {
                c.startTls(alice, true);
                assertTrue(c.list().contains("private"));
                assertEquals("NBD_REP_ACK", c.go("private"));
            }
        } finally {
            node.vdis().setAttr("private", VdiAcl.ATTRIBUTE, new byte[0], false, true);
        }
    }
}
