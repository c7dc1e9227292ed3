package io.kelpie.peer.server;

import io.kelpie.common.ClusterSecret;
import io.kelpie.common.Status;
import io.kelpie.peer.AuthClientTestAccess;
import io.kelpie.peer.PeerAuth;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerEncoder;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerRequestDecoder;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.PeerResponseDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cluster secret handshake between the real client and server handlers, over embedded channels
 * whose bytes the test carries across (whole, or one byte at a time): what gets through, what is
 * refused and with which answer, and that both handlers are gone once it is done.
 */
class AuthHandshakeTest {
    private static final ClusterSecret SECRET = ClusterSecret.of("the cluster's secret".getBytes(StandardCharsets.UTF_8));
    private static final ClusterSecret OTHER = ClusterSecret.of("another secret".getBytes(StandardCharsets.UTF_8));

    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void release() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    /** A node's pipeline: the handshake, then the request decoder; requests that get through land in the channel's inbound queue. */
    private EmbeddedChannel server(ClusterSecret secret, long timeoutMillis) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.freezeTime();
        ch.pipeline().addLast(new AuthServerHandler(new PeerAuth(secret), timeoutMillis), new PeerRequestDecoder(),
                PeerEncoder.INSTANCE);
        channels.add(ch);
        return ch;
    }

    /** A client's pipeline, optionally with the handshake; responses that get through land in the inbound queue. */
    private EmbeddedChannel client(ChannelHandler handshake) {
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ch.pipeline().addLast(new PeerResponseDecoder(), PeerEncoder.INSTANCE);
        if (handshake != null) {
            ch.pipeline().addLast(handshake);
        }
        try {
            ch.register(); // channelActive: the handshake handler sends its HELLO
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        channels.add(ch);
        return ch;
    }

    /** Moves every byte written on {@code from} into {@code to}, in pieces of {@code piece} bytes (0: as written). */
    private static boolean carry(EmbeddedChannel from, EmbeddedChannel to, int piece) {
        boolean any = false;
        for (Object o; (o = from.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            any |= b.isReadable();
            while (b.isReadable() && to.isActive()) { // what a closed peer would never read is dropped
                int n = piece == 0 ? b.readableBytes() : Math.min(piece, b.readableBytes());
                to.writeInbound(b.readRetainedSlice(n));
            }
            b.release();
        }
        return any;
    }

    /** Carries bytes both ways until neither side has anything more to say. */
    private static void converse(EmbeddedChannel client, EmbeddedChannel server, int piece) {
        for (int round = 0; round < 10; round++) {
            boolean moved = carry(client, server, piece);
            moved |= carry(server, client, piece);
            if (!moved) {
                return;
            }
        }
    }

    private static PeerRequest request(String payload) {
        return new PeerRequest(PeerConstants.VDI_LIST, 0, 7, 99, 42, 4096, 0,
                Unpooled.copiedBuffer(payload, StandardCharsets.UTF_8));
    }

    private static void assertGotRequest(EmbeddedChannel server, String payload) {
        PeerRequest got = server.readInbound();
        try {
            assertEquals(PeerConstants.VDI_LIST, got.opcode());
            assertEquals(99, got.id());
            assertEquals(42, got.oid());
            assertArrayEquals(payload.getBytes(StandardCharsets.UTF_8), ByteBufUtil.getBytes(got.content()));
        } finally {
            got.release();
        }
    }

    @Test
    void theRightSecretOpensTheConnectionAndBothHandlersLeave() throws Exception {
        EmbeddedChannel server = server(SECRET, 5000);
        var handshake = AuthClientTestAccess.handler(new PeerAuth(SECRET));
        EmbeddedChannel client = client(handshake.handler());
        converse(client, server, 0);
        handshake.done().get(1, TimeUnit.SECONDS);
        assertNull(server.pipeline().get(AuthServerHandler.class), "the server's handshake handler is still there");
        assertNull(client.pipeline().context(handshake.handler()), "the client's handshake handler is still there");
        client.writeOutbound(request("first request"));
        carry(client, server, 0);
        assertGotRequest(server, "first request");
        assertTrue(server.isActive());
    }

    @Test
    void splitIntoSingleBytesWithARequestRightBehindTheProof() throws Exception {
        EmbeddedChannel server = server(SECRET, 5000);
        var handshake = AuthClientTestAccess.handler(new PeerAuth(SECRET));
        EmbeddedChannel client = client(handshake.handler());
        carry(client, server, 1); // HELLO, byte by byte
        carry(server, client, 1); // the nonce
        // The proof and a request in one write: the server must hand the request on after the proof.
        ByteBuf proofAndRequest = outbound(client);
        EmbeddedChannel encoder = new EmbeddedChannel(PeerEncoder.INSTANCE);
        encoder.writeOutbound(request("pipelined"));
        proofAndRequest.writeBytes(outbound(encoder));
        encoder.finishAndReleaseAll();
        server.writeInbound(proofAndRequest);
        carry(server, client, 1);
        handshake.done().get(1, TimeUnit.SECONDS);
        assertGotRequest(server, "pipelined");
    }

    @Test
    void anotherSecretIsRefusedAndTheClientIsToldSo() {
        EmbeddedChannel server = server(SECRET, 5000);
        var handshake = AuthClientTestAccess.handler(new PeerAuth(OTHER));
        EmbeddedChannel client = client(handshake.handler());
        converse(client, server, 0);
        ExecutionException e = assertThrows(ExecutionException.class, () -> handshake.done().get(1, TimeUnit.SECONDS));
        assertEquals(PeerAuth.WRONG_SECRET, e.getCause().getMessage());
        assertFalse(server.isActive(), "the server kept the connection of a wrong secret");
        assertNull(server.readInbound());
    }

    @Test
    void noHandshakeGetsOneAnswerNamingTheOptionAndNothingIsServed() {
        EmbeddedChannel server = server(SECRET, 5000);
        EmbeddedChannel client = client(null);
        client.writeOutbound(request("not authenticated"));
        carry(client, server, 0);
        carry(server, client, 0);
        PeerResponse r = client.readInbound();
        try {
            assertEquals(Status.UNAUTHORIZED, r.status());
            assertEquals(99, r.id(), "the answer must match the request the client is waiting on");
            assertEquals(PeerAuth.NEEDS_SECRET, r.errorMessage());
        } finally {
            r.release();
        }
        assertNull(server.readInbound(), "a request got past the handshake");
        assertFalse(server.isActive());
    }

    @Test
    void aRecordedHandshakeReplayedOnANewConnectionIsRefused() {
        EmbeddedChannel first = server(SECRET, 5000);
        var handshake = AuthClientTestAccess.handler(new PeerAuth(SECRET));
        EmbeddedChannel client = client(handshake.handler());
        List<ByteBuf> recorded = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            for (Object o; (o = client.readOutbound()) != null; ) {
                recorded.add(((ByteBuf) o).copy());
                first.writeInbound(o);
            }
            carry(first, client, 0);
        }
        assertTrue(handshake.done().isDone() && !handshake.done().isCompletedExceptionally());
        EmbeddedChannel replayed = server(SECRET, 5000);
        for (ByteBuf b : recorded) {
            replayed.writeInbound(b); // the same HELLO and PROOF, against a new server nonce
        }
        assertFalse(replayed.isActive(), "a replayed proof was accepted");
        assertNull(replayed.readInbound());
    }

    @Test
    void aSilentConnectionIsClosedAfterTheTimeout() {
        EmbeddedChannel server = server(SECRET, 200);
        server.writeInbound(Unpooled.wrappedBuffer(new byte[10])); // part of a header, then nothing
        server.advanceTimeBy(199, TimeUnit.MILLISECONDS);
        server.runScheduledPendingTasks();
        assertTrue(server.isActive());
        server.advanceTimeBy(2, TimeUnit.MILLISECONDS);
        server.runScheduledPendingTasks();
        assertFalse(server.isActive(), "a connection that never finished the handshake stayed open");
    }

    @Test
    void theClientRefusesANodeWithoutTheSecretOrWithAWrongProof() throws Exception {
        var handshake = AuthClientTestAccess.handler(new PeerAuth(SECRET));
        EmbeddedChannel client = client(handshake.handler());
        PeerRequest hello = decodeRequest(outbound(client));
        try {
            // a node without a secret answers the unknown opcode
            client.writeOneInbound(PeerResponse.error(hello, 3, Status.UNSUPPORTED, "unknown opcode AUTH_HELLO"));
        } finally {
            hello.release();
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> handshake.done().get(1, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("runs without a cluster secret"), e.getCause().getMessage());

        var second = AuthClientTestAccess.handler(new PeerAuth(SECRET));
        EmbeddedChannel rogue = client(second.handler());
        io.netty.util.ReferenceCountUtil.release(rogue.readOutbound()); // HELLO
        rogue.writeOneInbound(new PeerResponse(PeerConstants.AUTH_HELLO, Status.OK, 0, 0, Unpooled.wrappedBuffer(PeerAuth.nonce())));
        rogue.writeOneInbound(new PeerResponse(PeerConstants.AUTH_PROOF, Status.OK, 0, 0,
                Unpooled.wrappedBuffer(new byte[PeerAuth.MAC_BYTES])));
        e = assertThrows(ExecutionException.class, () -> second.done().get(1, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("does not know our cluster secret"), e.getCause().getMessage());
        assertFalse(rogue.isActive());
    }

    private static PeerRequest decodeRequest(ByteBuf bytes) {
        EmbeddedChannel decoder = new EmbeddedChannel(new PeerRequestDecoder());
        decoder.writeInbound(bytes);
        PeerRequest r = decoder.readInbound();
        decoder.finishAndReleaseAll();
        return r;
    }

    /** Everything written on {@code ch} so far, as one buffer. */
    private static ByteBuf outbound(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            all.writeBytes((ByteBuf) o);
            ((ByteBuf) o).release();
        }
        return all;
    }
}
