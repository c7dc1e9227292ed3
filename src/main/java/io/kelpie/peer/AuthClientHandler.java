package io.kelpie.peer;

import io.kelpie.common.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.CompletableFuture;

/**
 * The client side of {@link PeerAuth}: sends AUTH_HELLO as soon as the connection is up, checks
 * the node's proof, sends its own, and once the node accepts it takes itself out of the pipeline
 * and completes {@link #done()}. A failure completes it with a {@link SecretRefused} saying which
 * side lacks the secret (the node's own words when it refused us); the connection is then closed.
 */
final class AuthClientHandler extends ChannelInboundHandlerAdapter {
    private final PeerAuth auth;
    private final byte[] clientNonce = PeerAuth.nonce();
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    AuthClientHandler(PeerAuth auth) {
        this.auth = auth;
    }

    CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ByteBuf hello = Unpooled.buffer(PeerAuth.HELLO_BYTES).writeByte(PeerAuth.VERSION).writeBytes(clientNonce);
        ctx.writeAndFlush(PeerRequest.withPayload(PeerConstants.AUTH_HELLO, 0, 0, 0, 0, hello));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof PeerResponse r) || done.isDone()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            if (r.opcode() == PeerConstants.AUTH_HELLO) {
                challenged(ctx, r);
            } else if (r.opcode() == PeerConstants.AUTH_PROOF) {
                if (!r.ok()) {
                    fail(ctx, r.errorMessage());
                    return;
                }
                ctx.pipeline().remove(this);
                done.complete(null);
            } else {
                fail(ctx, "node answered " + PeerConstants.opcodeName(r.opcode()) + " during the cluster secret handshake");
            }
        } finally {
            r.release();
        }
    }

    private void challenged(ChannelHandlerContext ctx, PeerResponse r) {
        if (r.status() == Status.UNSUPPORTED && r.errorMessage().startsWith("unknown opcode")) {
            fail(ctx, "node runs without a cluster secret (no --cluster-secret): not talking to it with ours");
            return;
        }
        if (!r.ok()) {
            fail(ctx, r.errorMessage());
            return;
        }
        ByteBuf p = r.payload();
        if (p.readableBytes() != PeerAuth.CHALLENGE_BYTES) {
            fail(ctx, "malformed cluster secret challenge");
            return;
        }
        byte[] serverNonce = new byte[PeerAuth.NONCE_BYTES];
        byte[] serverProof = new byte[PeerAuth.MAC_BYTES];
        p.getBytes(p.readerIndex(), serverNonce).getBytes(p.readerIndex() + PeerAuth.NONCE_BYTES, serverProof);
        if (!PeerAuth.same(auth.serverProof(clientNonce, serverNonce), serverProof)) {
            fail(ctx, "node does not know our cluster secret (its proof does not match)");
            return;
        }
        ByteBuf proof = Unpooled.wrappedBuffer(auth.clientProof(serverNonce, clientNonce));
        ctx.writeAndFlush(PeerRequest.withPayload(PeerConstants.AUTH_PROOF, 0, 0, 0, 0, proof));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done.completeExceptionally(new SecretRefused("connection closed during the cluster secret handshake"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done.isDone()) {
            fail(ctx, "cluster secret handshake failed: " + PeerClient.reason(cause));
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    private void fail(ChannelHandlerContext ctx, String why) {
        done.completeExceptionally(new SecretRefused(why));
        ctx.close();
    }
}
