package io.kelpie.frontend;

import io.kelpie.metrics.VdiRecorder;
import io.kelpie.nbd.NbdError;
import io.kelpie.nbd.NbdErrorChunk;
import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdRequestValidator;
import io.kelpie.nbd.NbdSession;
import io.kelpie.nbd.NbdSimpleReply;
import io.kelpie.vdi.Vdi;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * Serves one connection's requests against its VDI: validates each, dispatches it to the command of
 * its type, and answers as each completes (pipelined, out of order). Reading stops while more than
 * {@link #MAX_IN_FLIGHT_BYTES} or {@link #MAX_IN_FLIGHT} requests are outstanding or the socket
 * cannot take more replies. NBD_CMD_DISC and EOF both let outstanding requests finish; the VDI
 * handle is released only after the last one did, so no I/O runs on a closed handle.
 */
final class NbdTransmissionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(NbdTransmissionHandler.class);
    static final long MAX_IN_FLIGHT_BYTES = 64L << 20;
    static final int MAX_IN_FLIGHT = 1024;
    /** The commands by request type, with large reads copied or sent from the file ({@link FileReads}). */
    private static final NbdCommand[] COPIED_COMMANDS = commands(ReadCommand.COPY);
    private static final NbdCommand[] FILE_COMMANDS = commands(ReadCommand.ZERO_COPY);

    private static NbdCommand[] commands(ReadCommand read) {
        NbdCommand[] c = new NbdCommand[8];
        c[NBD_CMD_READ] = read;
        c[NBD_CMD_WRITE] = new WriteCommand();
        c[NBD_CMD_FLUSH] = new FlushCommand();
        c[NBD_CMD_TRIM] = new TrimCommand();
        c[NBD_CMD_CACHE] = new CacheCommand();
        c[NBD_CMD_WRITE_ZEROES] = new WriteZeroesCommand();
        c[NBD_CMD_BLOCK_STATUS] = new BlockStatusCommand();
        return c;
    }

    private final NbdSession session;
    private final Vdi vdi;
    private final VdiRecorder recorder;
    private ChannelHandlerContext ctx;
    private NbdCommand[] commands = COPIED_COMMANDS;
    private int inFlight;
    private long inFlightBytes;
    private boolean disconnecting;
    private boolean inactive;
    private boolean released;
    private boolean flushScheduled;
    private final Runnable flushTask = () -> {
        flushScheduled = false;
        ctx.flush();
    };

    NbdTransmissionHandler(NbdSession session, Vdi vdi, VdiRecorder recorder) {
        this.session = session;
        this.vdi = vdi;
        this.recorder = recorder;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        boolean tls = ctx.pipeline().get(SslHandler.class) != null;
        this.commands = FileReads.configured().fromFile(tls, ctx.channel()) ? FILE_COMMANDS : COPIED_COMMANDS;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof NbdRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            if (disconnecting || inactive) {
                return; // nothing may follow NBD_CMD_DISC
            }
            if (req.type() == NBD_CMD_DISC) {
                disconnecting = true;
                updateReading();
                finishIfIdle();
                return;
            }
            NbdError invalid = NbdRequestValidator.validate(req, session);
            if (invalid != null) {
                log.debug("NBD {} {}: {}", ctx.channel().remoteAddress(), req, invalid);
                send(req, List.of(errorReply(req, invalid)));
                updateReading(); // error replies count against the outbound buffer too
                return;
            }
            start(req);
        } finally {
            ReferenceCountUtil.release(req);
        }
    }

    private void start(NbdRequest req) {
        long arrived = System.nanoTime(); // captured by the completion below: no allocation of its own
        long cost = req.type() == NBD_CMD_READ || req.type() == NBD_CMD_WRITE ? req.length() : 0;
        inFlight++;
        inFlightBytes += cost;
        updateReading();
        CompletableFuture<List<NbdReply>> result;
        try {
            result = commands[req.type()].execute(req, session, vdi);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        req.retain(); // the payload must outlive the I/O
        result.whenComplete((replies, err) -> {
            if (ctx.executor().inEventLoop()) {
                complete(req, cost, arrived, replies, err);
            } else {
                ctx.executor().execute(() -> complete(req, cost, arrived, replies, err));
            }
        });
    }

    private void complete(NbdRequest req, long cost, long arrived, List<NbdReply> replies, Throwable err) {
        try {
            inFlight--;
            inFlightBytes -= cost;
            recorder.request(req.type(), req.length(), System.nanoTime() - arrived, err == null);
            if (err != null) {
                NbdError e = NbdErrors.of(err);
                if (e.errno() == NBD_EIO || e.errno() == NBD_ESHUTDOWN) {
                    log.warn("NBD export {}: {} failed: {}", session.info().name(), req, e.message());
                }
                send(req, List.of(errorReply(req, e)));
            } else {
                send(req, replies);
            }
        } finally {
            req.release();
        }
        if (inactive) {
            releaseIfIdle();
            return;
        }
        updateReading();
        finishIfIdle();
    }

    private NbdReply errorReply(NbdRequest req, NbdError e) {
        return session.structuredReplies() ? new NbdErrorChunk(req.cookie(), e.errno(), e.message())
                : NbdSimpleReply.error(req.cookie(), e.errno());
    }

    /** Queues replies; one flush covers all replies completed in the same event-loop turn. */
    private void send(NbdRequest req, List<NbdReply> replies) {
        for (NbdReply r : replies) {
            ctx.write(r, ctx.voidPromise());
        }
        if (!flushScheduled) {
            flushScheduled = true;
            ctx.executor().execute(flushTask);
        }
    }

    private void updateReading() {
        boolean read = !disconnecting && !inactive && inFlight < MAX_IN_FLIGHT && inFlightBytes < MAX_IN_FLIGHT_BYTES
                && ctx.channel().isWritable();
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    private void finishIfIdle() {
        if (disconnecting && inFlight == 0 && !inactive) {
            ctx.flush();
            ctx.close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateReading();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        releaseIfIdle();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        inactive = true;
        releaseIfIdle();
    }

    private void releaseIfIdle() {
        if (inFlight == 0 && !released) {
            released = true;
            session.export().close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        String what = cause.getMessage() != null ? cause.getMessage() : cause.toString();
        if (cause instanceof java.io.IOException) {
            log.debug("NBD client {}: {}, closing", ctx.channel().remoteAddress(), what);
        } else {
            log.info("NBD client {}: {}, closing", ctx.channel().remoteAddress(), what);
        }
        ctx.close();
    }
}
