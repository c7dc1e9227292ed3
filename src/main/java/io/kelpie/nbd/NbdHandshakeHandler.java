package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static io.kelpie.nbd.NbdConstants.*;
import static io.kelpie.nbd.NbdOptionReplies.ack;
import static io.kelpie.nbd.NbdOptionReplies.error;
import static io.kelpie.nbd.NbdOptionReplies.message;

/**
 * The fixed-newstyle handshake of one connection: greeting, client flags, then options until
 * NBD_OPT_GO or NBD_OPT_EXPORT_NAME opens an export. Then it installs the transmission pipeline
 * (request decoder, reply encoder, the exports' transmission handler) and removes itself, handing
 * over any bytes that already arrived. The replies are written by {@link NbdOptionReplies}; the
 * metadata context negotiation is {@link NbdMetaContext}'s.
 *
 * <p>An explicit state machine over its own accumulation buffer: options are handled one at a time
 * and export lookups run asynchronously, during which reading stops. Bounded against hostile
 * clients: option payloads up to {@link NbdLimits#MAX_OPTION_LENGTH} (more drops the connection
 * before anything is buffered), {@link NbdLimits#MAX_OPTIONS} options, and a handshake timeout.
 *
 * <p>TLS ({@link NbdTls}, answered by {@link NbdStartTls}): after STARTTLS the TLS handler sits
 * first in the pipeline and this handler reads decrypted options as before; the exports are told
 * who asks ({@link NbdClient}) on every lookup.
 */
public final class NbdHandshakeHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(NbdHandshakeHandler.class);

    private enum State { CLIENT_FLAGS, OPTION_HEADER, OPTION_DATA, WAITING, DONE }

    private final NbdExports exports;
    private final NbdStartTls tls;
    private final long timeoutMillis;
    private ByteBuf buf;
    private State state = State.CLIENT_FLAGS;
    private boolean noZeroes;
    private boolean structured;
    private NbdMetaContext meta = new NbdMetaContext();
    private int option;
    private int optionLength;
    private int options;
    private ScheduledFuture<?> timeout;
    private boolean inactive;

    public NbdHandshakeHandler(NbdExports exports) {
        this(exports, NbdTls.OFF);
    }

    public NbdHandshakeHandler(NbdExports exports, NbdTls tls) {
        this(exports, tls, TimeUnit.SECONDS.toMillis(NbdLimits.HANDSHAKE_TIMEOUT_SECONDS));
    }

    public NbdHandshakeHandler(NbdExports exports, long timeoutMillis) {
        this(exports, NbdTls.OFF, timeoutMillis);
    }

    public NbdHandshakeHandler(NbdExports exports, NbdTls tls, long timeoutMillis) {
        this.exports = exports;
        this.tls = new NbdStartTls(tls);
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ByteBuf greeting = ctx.alloc().buffer(18);
        greeting.writeLong(NBDMAGIC).writeLong(IHAVEOPT).writeShort(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
        ctx.writeAndFlush(greeting);
        timeout = ctx.executor().schedule(() -> {
            if (state != State.DONE) {
                log.info("NBD client {}: handshake not finished within {} ms, closing", ctx.channel().remoteAddress(), timeoutMillis);
                ctx.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (state == State.DONE) {
            ctx.fireChannelRead(in);
            return;
        }
        buf = buf == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), buf, in);
        drive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        ByteBuf rest = buf;
        buf = null;
        if (rest != null && rest.isReadable() && !inactive) {
            ctx.fireChannelRead(rest);
            ctx.fireChannelReadComplete();
        } else if (rest != null) {
            rest.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("NBD client {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }

    private void release() {
        if (buf != null) {
            buf.release();
            buf = null;
        }
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    /** Consumes as many complete messages as the buffer holds, unless waiting for a lookup. */
    private void drive(ChannelHandlerContext ctx) {
        while (buf != null && !inactive) {
            switch (state) {
                case CLIENT_FLAGS -> {
                    if (buf.readableBytes() < 4) {
                        return;
                    }
                    int flags = buf.readInt();
                    if ((flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) != 0) {
                        violation(ctx, "unknown client flags 0x" + Integer.toHexString(flags));
                        return;
                    }
                    noZeroes = (flags & NBD_FLAG_C_NO_ZEROES) != 0;
                    state = State.OPTION_HEADER;
                }
                case OPTION_HEADER -> {
                    if (buf.readableBytes() < OPTION_HEADER_SIZE) {
                        compact();
                        return;
                    }
                    long magic = buf.readLong();
                    option = buf.readInt();
                    long length = buf.readUnsignedInt();
                    if (magic != IHAVEOPT) {
                        violation(ctx, "bad option magic 0x" + Long.toHexString(magic));
                        return;
                    }
                    if (length > NbdLimits.MAX_OPTION_LENGTH) {
                        violation(ctx, optionName(option) + " with " + length + " bytes of data (limit "
                                + NbdLimits.MAX_OPTION_LENGTH + ")");
                        return;
                    }
                    if (++options > NbdLimits.MAX_OPTIONS) {
                        violation(ctx, "more than " + NbdLimits.MAX_OPTIONS + " options");
                        return;
                    }
                    optionLength = (int) length;
                    state = State.OPTION_DATA;
                }
                case OPTION_DATA -> {
                    if (buf.readableBytes() < optionLength) {
                        compact();
                        return;
                    }
                    ByteBuf data = buf.readRetainedSlice(optionLength);
                    state = State.OPTION_HEADER;
                    try {
                        handleOption(ctx, option, data);
                    } finally {
                        data.release();
                    }
                    ctx.flush();
                }
                case WAITING, DONE -> {
                    return;
                }
                default -> throw new IllegalStateException();
            }
        }
    }

    private void compact() {
        if (!buf.isReadable()) {
            buf.release();
            buf = null;
        } else {
            buf.discardSomeReadBytes();
        }
    }

    private void violation(ChannelHandlerContext ctx, String what) {
        log.info("NBD client {}: {}, closing", ctx.channel().remoteAddress(), what);
        release();
        ctx.close();
    }

    private void handleOption(ChannelHandlerContext ctx, int opt, ByteBuf data) {
        if (tls.mustUpgradeFirst(opt)) {
            if (opt == NBD_OPT_EXPORT_NAME) {
                // it cannot be refused with a reply: the spec says to end the session
                violation(ctx, "NBD_OPT_EXPORT_NAME without TLS, which this server requires");
            } else {
                error(ctx, opt, NBD_REP_ERR_TLS_REQD, "this server requires TLS: send NBD_OPT_STARTTLS first (nbds://)");
            }
            return;
        }
        switch (opt) {
            case NBD_OPT_EXPORT_NAME -> exportName(ctx, data.toString(StandardCharsets.UTF_8));
            case NBD_OPT_ABORT -> {
                state = State.WAITING; // nothing more is read: the session ends once the ACK is out
                ack(ctx, opt);
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
            case NBD_OPT_LIST -> {
                if (data.isReadable()) {
                    error(ctx, opt, NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                    return;
                }
                await(ctx, exports.list(tls.client(ctx)), (list, err) -> {
                    if (err != null) {
                        error(ctx, opt, NBD_REP_ERR_SHUTDOWN, "cannot list exports: " + message(err));
                        return;
                    }
                    list.forEach(e -> NbdOptionReplies.server(ctx, opt, e));
                    ack(ctx, opt);
                });
            }
            case NBD_OPT_STARTTLS -> {
                switch (tls.answer(ctx, data, buf != null && buf.isReadable())) {
                    case UPGRADING -> {
                        structured = false;
                        meta = new NbdMetaContext();
                    }
                    case EARLY_DATA -> violation(ctx, "sent data after NBD_OPT_STARTTLS before TLS was set up");
                    case REFUSED -> { }
                }
            }
            case NBD_OPT_INFO, NBD_OPT_GO -> infoOrGo(ctx, opt, data);
            case NBD_OPT_STRUCTURED_REPLY -> {
                if (data.isReadable()) {
                    error(ctx, opt, NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                } else if (structured) {
                    error(ctx, opt, NBD_REP_ERR_INVALID, "structured replies are already negotiated");
                } else {
                    structured = true;
                    ack(ctx, opt);
                }
            }
            case NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT -> metaContext(ctx, opt, data);
            default -> error(ctx, opt, NBD_REP_ERR_UNSUP, optionName(opt) + " is not supported");
        }
    }

    private void exportName(ChannelHandlerContext ctx, String name) {
        await(ctx, exports.open(name, tls.client(ctx)), (export, err) -> {
            if (err != null) {
                // NBD_OPT_EXPORT_NAME cannot fail politely: the spec says to end the session.
                log.info("NBD client {}: no export '{}' ({}), closing", ctx.channel().remoteAddress(), name, message(err));
                state = State.DONE;
                ctx.close();
                return;
            }
            int flags = export.info().transmissionFlags(structured);
            NbdOptionReplies.exportName(ctx, export.info(), flags, noZeroes);
            enterTransmission(ctx, export, flags);
        });
    }

    private void infoOrGo(ChannelHandlerContext ctx, int opt, ByteBuf data) {
        NbdOptionParser.InfoRequest req;
        try {
            req = NbdOptionParser.parseInfo(data);
        } catch (NbdOptionParser.InvalidOption e) {
            error(ctx, opt, e.reply(), optionName(opt) + ": " + e.getMessage());
            return;
        }
        if (opt == NBD_OPT_GO) {
            await(ctx, exports.open(req.name(), tls.client(ctx)), (export, err) -> {
                if (answerInfo(ctx, opt, req, err == null ? export.info() : null, err)) {
                    enterTransmission(ctx, export, export.info().transmissionFlags(structured));
                }
            });
        } else {
            await(ctx, exports.find(req.name(), tls.client(ctx)), (info, err) -> answerInfo(ctx, opt, req, info, err));
        }
    }

    /** The replies shared by INFO and GO, or an error reply; true on success. */
    private boolean answerInfo(ChannelHandlerContext ctx, int opt, NbdOptionParser.InfoRequest req, NbdExportInfo info,
                               Throwable err) {
        if (err != null) {
            error(ctx, opt, NbdExportRefused.replyTypeOf(err), message(err));
            return false;
        }
        NbdOptionReplies.info(ctx, opt, req, info, info.transmissionFlags(structured));
        return true;
    }

    private void metaContext(ChannelHandlerContext ctx, int opt, ByteBuf data) {
        NbdMetaContext.Query q;
        try {
            q = meta.parse(opt, data, structured);
        } catch (NbdOptionParser.InvalidOption e) {
            error(ctx, opt, e.reply(), e.getMessage());
            return;
        }
        await(ctx, exports.find(q.exportName(), tls.client(ctx)), (info, err) -> {
            if (err != null) {
                error(ctx, opt, NbdExportRefused.replyTypeOf(err), message(err));
                return;
            }
            meta.answer(ctx, opt, q, info.name());
        });
    }

    private void enterTransmission(ChannelHandlerContext ctx, NbdExport export, int flags) {
        state = State.DONE;
        ctx.flush();
        String name = export.info().name();
        NbdSession session = new NbdSession(export, flags, structured, meta.baseAllocationFor(name), meta.allocationDepthFor(name));
        log.debug("NBD client {}: export {} ({} bytes, {}{})", ctx.channel().remoteAddress(), export.info().name(),
                export.info().size(), transmissionFlagNames(flags), structured ? ", structured replies" : "");
        ChannelPipeline p = ctx.pipeline();
        p.addAfter(ctx.name(), "nbd-request-decoder", new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE));
        p.addAfter("nbd-request-decoder", "nbd-reply-encoder", new NbdReplyEncoder());
        p.addAfter("nbd-reply-encoder", "nbd-transmission", exports.transmissionHandler(session));
        p.remove(this);
    }

    /** Runs a lookup off the event loop; reading pauses until {@code then} ran on the event loop. */
    private <T> void await(ChannelHandlerContext ctx, CompletableFuture<T> future, BiConsumer<T, Throwable> then) {
        state = State.WAITING;
        ctx.channel().config().setAutoRead(false);
        future.whenComplete((v, err) -> ctx.executor().execute(() -> {
            if (inactive) {
                if (v instanceof NbdExport e) {
                    e.close();
                }
                return;
            }
            try {
                then.accept(v, err);
            } catch (RuntimeException e) {
                log.warn("NBD client {}: handshake failed: {}", ctx.channel().remoteAddress(), e.toString());
                if (v instanceof NbdExport x && state != State.DONE) {
                    x.close();
                }
                ctx.close();
                return;
            }
            ctx.flush();
            if (state == State.WAITING) {
                state = State.OPTION_HEADER;
            }
            if (state != State.DONE) {
                ctx.channel().config().setAutoRead(true);
                drive(ctx);
            } else {
                ctx.channel().config().setAutoRead(true);
            }
        }));
    }
}
