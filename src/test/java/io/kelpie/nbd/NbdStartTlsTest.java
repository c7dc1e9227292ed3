package io.kelpie.nbd;

import io.kelpie.TestPki;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static io.kelpie.nbd.NbdConstants.*;
import static io.kelpie.nbd.NbdHandshakeHandlerTest.infoData;
import static io.kelpie.nbd.NbdHandshakeHandlerTest.option;
import static io.kelpie.nbd.NbdHandshakeHandlerTest.reply;
import static org.junit.jupiter.api.Assertions.*;

/** STARTTLS sequencing and the FORCEDTLS gate, on an EmbeddedChannel (no TLS bytes are exchanged here). */
class NbdStartTlsTest {
    @TempDir
    static Path root;
    static NbdTls required;
    static NbdTls offered;
    private final TestExports exports = new TestExports().add("disk", 1 << 20, false);
    private EmbeddedChannel ch;

    @BeforeAll
    static void credentials() throws IOException {
        Path d = TestPki.create(root, "ca").issue("srv", "server", "localhost", "pkcs8");
        var ctx = SslContextBuilder.forServer(d.resolve("server-cert.pem").toFile(), d.resolve("server-key.pem").toFile()).build();
        required = NbdTls.of(NbdTls.Mode.REQUIRE, ctx);
        offered = NbdTls.of(NbdTls.Mode.ON, ctx);
    }

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    private void connect(NbdTls tls) {
        ch = new EmbeddedChannel(new NbdHandshakeHandler(exports, tls));
        out().release();
        ch.writeInbound(Unpooled.buffer().writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
    }

    private ByteBuf out() {
        ch.runPendingTasks();
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            all.writeBytes(b);
            b.release();
        }
        return all;
    }

    private void expectOnly(int opt, int type) {
        ByteBuf r = out();
        reply(r, opt, type);
        assertFalse(r.isReadable(), "one reply");
        r.release();
    }

    @Test
    void requiredRefusesEveryOptionButStartTlsAndAbort() {
        connect(required);
        for (int opt : new int[] {NBD_OPT_LIST, NBD_OPT_STRUCTURED_REPLY, 42}) {
            ch.writeInbound(option(opt));
            expectOnly(opt, NBD_REP_ERR_TLS_REQD);
        }
        for (int opt : new int[] {NBD_OPT_INFO, NBD_OPT_GO}) {
            ch.writeInbound(option(opt, infoData("disk")));
            expectOnly(opt, NBD_REP_ERR_TLS_REQD);
        }
        assertEquals(0, exports.opened, "nothing opened in plaintext");
        assertTrue(ch.isActive());
        ch.writeInbound(option(NBD_OPT_ABORT));
        expectOnly(NBD_OPT_ABORT, NBD_REP_ACK);
    }

    @Test
    void requiredClosesOnExportNameInPlaintext() {
        connect(required);
        ch.writeInbound(option(NBD_OPT_EXPORT_NAME, Unpooled.copiedBuffer("disk".getBytes())));
        ByteBuf r = out();
        assertFalse(r.isReadable(), "no export data in plaintext");
        r.release();
        assertFalse(ch.isActive());
        assertEquals(0, exports.opened);
    }

    @Test
    void startTlsAcksInPlaintextThenPutsTlsFirst() {
        connect(required);
        ch.writeInbound(option(NBD_OPT_STARTTLS));
        expectOnly(NBD_OPT_STARTTLS, NBD_REP_ACK);
        assertInstanceOf(SslHandler.class, ch.pipeline().first());
        assertEquals("nbd-tls", ch.pipeline().names().get(0));
    }

    @Test
    void startTlsWithDataIsInvalidAndTheSessionGoesOnInPlaintext() {
        connect(offered);
        ch.writeInbound(option(NBD_OPT_STARTTLS, Unpooled.buffer().writeInt(1)));
        expectOnly(NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID);
        assertNull(ch.pipeline().get(SslHandler.class));
        ch.writeInbound(option(NBD_OPT_LIST));
        ByteBuf r = out();
        reply(r, NBD_OPT_LIST, NBD_REP_SERVER);
        r.release();
    }

    @Test
    void bytesAfterStartTlsInTheSameReadDropTheConnectionUnanswered() {
        connect(required);
        // STARTTLS and a plaintext LIST behind it, as an attacker in the middle would inject them
        ByteBuf both = option(NBD_OPT_STARTTLS).writeBytes(option(NBD_OPT_LIST));
        ch.writeInbound(both);
        ByteBuf r = out();
        assertFalse(r.isReadable(), "no ACK, no list");
        r.release();
        assertFalse(ch.isActive());
        assertNull(ch.pipeline().get(SslHandler.class));
    }

    @Test
    void offeredServesPlaintextToo() {
        connect(offered);
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk")));
        ByteBuf r = out();
        reply(r, NBD_OPT_GO, NBD_REP_INFO);
        r.release();
        assertEquals(1, exports.opened);
    }
}
