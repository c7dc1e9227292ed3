package io.kelpie.peer;

import io.kelpie.common.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.CompletableFuture;

/**
 * The client side of {@link PeerAuth}: sends AUTH_HELLO as soon as the connection is up, its proof
 * over the node's nonce, and once the node accepts it and the node's own proof checks out, takes
 * itself out of the pipeline and completes {@link #done()}. A failure completes it with a {@link SecretRefused} saying which
 * side lacks the secret (the node's own words when it refused us); the connection is then closed.
 */
final class AuthClientHandler extends ChannelInboundHandlerAdapter {
    private final PeerAuth auth;
    private final byte[] clientNonce = PeerAuth.nonce();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private byte[] serverNonce;

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
                accepted(ctx, r);
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
        if (p.readableBytes() != PeerAuth.NONCE_BYTES) {
            fail(ctx, "malformed cluster secret challenge");
            return;
        }
        serverNonce = new byte[PeerAuth.NONCE_BYTES];
        p.getBytes(p.readerIndex(), serverNonce);
        ByteBuf proof = Unpooled.wrappedBuffer(auth.clientProof(serverNonce, clientNonce));
        ctx.writeAndFlush(PeerRequest.withPayload(PeerConstants.AUTH_PROOF, 0, 0, 0, 0, proof));
    }

    /** The node took our proof; it is ours only if its own proof is right too. */
    private void accepted(ChannelHandlerContext ctx, PeerResponse r) {
        if (!r.ok()) {
            fail(ctx, r.errorMessage());
            return;
        }
        ByteBuf p = r.payload();
        byte[] nodeProof = new byte[PeerAuth.MAC_BYTES];
        if (serverNonce == null || p.readableBytes() != PeerAuth.MAC_BYTES) {
            fail(ctx, "malformed cluster secret proof from the node");
            return;
        }
        p.getBytes(p.readerIndex(), nodeProof);
        if (!PeerAuth.same(auth.serverProof(clientNonce, serverNonce), nodeProof)) {
            fail(ctx, "node does not know our cluster secret (its proof does not match)");
            return;
        }
        ctx.pipeline().remove(this);
        done.complete(null);
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
