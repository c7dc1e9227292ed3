package io.kelpie.peer.server;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.metrics.PeerRecorder;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.ops.PeerOp;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Routes each decoded request to the {@link PeerOp} of its opcode and writes its response when it
 * completes (possibly out of order). The request is released once its op is done with it.
 */
@ChannelHandler.Sharable
final class PeerDispatcher extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(PeerDispatcher.class);

    private final LongSupplier epoch;
    private final PeerOp.Bound[] ops = new PeerOp.Bound[256];
    private final Executor ioExecutor;
    private final Executor adminExecutor;
    private final PeerRecorder recorder;

    PeerDispatcher(LongSupplier epoch, Map<Integer, PeerOp.Bound> ops, Executor ioExecutor, Executor adminExecutor,
                   PeerRecorder recorder) {
        this.epoch = epoch;
        this.recorder = recorder;
        ops.forEach((code, op) -> this.ops[code] = op);
        this.ioExecutor = ioExecutor;
        this.adminExecutor = adminExecutor;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof PeerRequest req)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        PeerOp.Bound op = req.opcode() < ops.length ? ops[req.opcode()] : null;
        if (op == null) {
            req.release();
            ctx.writeAndFlush(PeerResponse.error(req, epoch.getAsLong(), Status.UNSUPPORTED,
                    "unknown opcode " + PeerConstants.opcodeName(req.opcode())));
            return;
        }
        CompletableFuture<ByteBuf> result;
        try {
            Executor executor = PeerConstants.isPeerOpcode(req.opcode()) ? ioExecutor : adminExecutor;
            result = op.serve(req, executor);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        int opcode = req.opcode();
        result.whenComplete((payload, err) -> {
            recorder.request(opcode, err == null);
            String what = err != null ? req.toString() : null; // while the request is still valid
            req.release();
            PeerResponse resp;
            if (err == null) {
                resp = PeerResponse.ok(req, epoch.getAsLong(), payload);
            } else {
                Status st = KelpieException.statusOf(err);
                if (st == Status.IO_ERROR) {
                    log.warn("{} failed: {}", what, KelpieException.messageOf(err));
                }
                resp = PeerResponse.error(req, epoch.getAsLong(), st, KelpieException.messageOf(err));
            }
            ctx.writeAndFlush(resp);
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("peer connection from {} failed: {}", ctx.channel().remoteAddress(), KelpieException.messageOf(cause));
        ctx.close();
    }
}
