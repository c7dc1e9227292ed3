package io.kelpie.peer.server;

import io.kelpie.common.Status;
import io.kelpie.peer.PeerAuth;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The server side of {@link PeerAuth}, first in the pipeline of every peer connection to a node
 * with a cluster secret. It reads the two handshake frames from the bytes itself, ahead of the
 * request decoder, so that an unauthenticated peer can make the node buffer no more than one
 * frame header and a few dozen bytes (the decoder would take 64 MiB payloads). Anything but the
 * handshake is answered once with UNAUTHORIZED, naming what is missing, and the connection
 * closed. Once the client has proved the secret it removes itself; the bytes after the proof go
 * on to the decoder.
 */
public final class AuthServerHandler extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(AuthServerHandler.class);

    private enum State { HELLO, PROOF, REFUSED }

    private final PeerAuth auth;
    private final long timeoutMillis;
    private final byte[] serverNonce = PeerAuth.nonce();
    private byte[] clientNonce;
    private State state = State.HELLO;
    private ScheduledFuture<?> timer;

    public AuthServerHandler(PeerAuth auth) {
        this(auth, PeerAuth.TIMEOUT.toMillis());
    }

    AuthServerHandler(PeerAuth auth, long timeoutMillis) {
        this.auth = auth;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> {
            if (state != State.REFUSED && ctx.channel().isActive()) {
                state = State.REFUSED;
                log.warn("peer connection from {} closed: no cluster secret handshake within {} ms",
                        ctx.channel().remoteAddress(), timeoutMillis);
                ctx.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        timer.cancel(false);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state == State.REFUSED) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < PeerConstants.REQUEST_HEADER_SIZE) {
            return;
        }
        int at = in.readerIndex();
        if (in.getInt(at) != PeerConstants.REQUEST_MAGIC) {
            refuse(ctx, in, null, "it does not speak the peer protocol");
            return;
        }
        int opcode = in.getUnsignedShort(at + 4);
        long id = in.getLong(at + 16);
        long length = in.getUnsignedInt(at + 44);
        int expectedOpcode = state == State.HELLO ? PeerConstants.AUTH_HELLO : PeerConstants.AUTH_PROOF;
        if (opcode != expectedOpcode) {
            refuse(ctx, in, reply(opcode, id, Status.UNAUTHORIZED, PeerAuth.NEEDS_SECRET),
                    "it did not prove the cluster secret (it sent " + PeerConstants.opcodeName(opcode) + " first)");
            return;
        }
        int expectedLength = state == State.HELLO ? PeerAuth.HELLO_BYTES : PeerAuth.MAC_BYTES;
        if (length != expectedLength) {
            refuse(ctx, in, reply(opcode, id, Status.INVALID, "malformed " + PeerConstants.opcodeName(opcode)),
                    "malformed " + PeerConstants.opcodeName(opcode) + " of " + length + " bytes");
            return;
        }
        if (in.readableBytes() < PeerConstants.REQUEST_HEADER_SIZE + expectedLength) {
            return;
        }
        in.skipBytes(PeerConstants.REQUEST_HEADER_SIZE);
        if (state == State.HELLO) {
            int version = in.readUnsignedByte();
            clientNonce = new byte[PeerAuth.NONCE_BYTES];
            in.readBytes(clientNonce);
            if (version != PeerAuth.VERSION) {
                refuse(ctx, in, reply(opcode, id, Status.UNSUPPORTED, "cluster secret handshake version " + version
                        + " is not supported (this node speaks " + PeerAuth.VERSION + ")"), "handshake version " + version);
                return;
            }
            ctx.channel().writeAndFlush(new PeerResponse(opcode, Status.OK, 0, id, Unpooled.wrappedBuffer(serverNonce)));
            state = State.PROOF;
            return;
        }
        byte[] proof = new byte[PeerAuth.MAC_BYTES];
        in.readBytes(proof);
        if (!PeerAuth.same(auth.clientProof(serverNonce, clientNonce), proof)) {
            refuse(ctx, in, reply(opcode, id, Status.UNAUTHORIZED, PeerAuth.WRONG_SECRET), "cluster secret does not match");
            return;
        }
        ByteBuf ours = Unpooled.wrappedBuffer(auth.serverProof(clientNonce, serverNonce));
        ctx.channel().writeAndFlush(new PeerResponse(opcode, Status.OK, 0, id, ours));
        log.debug("peer connection from {} proved the cluster secret", ctx.channel().remoteAddress());
        // what follows the proof in this read goes on to the request decoder as it is
        ctx.pipeline().remove(this);
    }

    private static PeerResponse reply(int opcode, long id, Status status, String message) {
        ByteBuf msg = Unpooled.buffer();
        new WireWriter(msg).string(message);
        return new PeerResponse(opcode, status, 0, id, msg);
    }

    /** One line, one answer (if the peer can read one), then the connection goes. */
    private void refuse(ChannelHandlerContext ctx, ByteBuf in, PeerResponse answer, String why) {
        state = State.REFUSED;
        in.skipBytes(in.readableBytes());
        log.warn("peer connection from {} refused: {}", ctx.channel().remoteAddress(), why);
        if (answer == null) {
            ctx.close();
        } else {
            ctx.channel().writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
