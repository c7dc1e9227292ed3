package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * The server's answers during option haggling: option reply frames (magic, option, reply type,
 * length, data) and the old-style reply to NBD_OPT_EXPORT_NAME. Writes without flushing: the
 * handshake flushes once per option.
 */
final class NbdOptionReplies {
    private static final Logger log = LoggerFactory.getLogger(NbdOptionReplies.class);

    private NbdOptionReplies() {
    }

    /** One reply frame; {@code data} (null for none) is released by the write. */
    static void reply(ChannelHandlerContext ctx, int opt, int type, ByteBuf data) {
        int len = data == null ? 0 : data.readableBytes();
        ByteBuf h = ctx.alloc().buffer(20);
        h.writeLong(NBD_OPTION_REPLY_MAGIC).writeInt(opt).writeInt(type).writeInt(len);
        ctx.write(h);
        if (data != null) {
            ctx.write(data);
        }
    }

    static void ack(ChannelHandlerContext ctx, int opt) {
        reply(ctx, opt, NBD_REP_ACK, null);
    }

    /** An error reply of {@code type}, its message cut to the spec's string limit. */
    static void error(ChannelHandlerContext ctx, int opt, int type, String message) {
        log.debug("NBD client {}: {} -> {}: {}", ctx.channel().remoteAddress(), optionName(opt), replyName(type), message);
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        int len = Math.min(m.length, MAX_STRING);
        reply(ctx, opt, type, ctx.alloc().buffer(len).writeBytes(m, 0, len));
    }

    /** One NBD_REP_SERVER entry of NBD_OPT_LIST: the export's name and description. */
    static void server(ChannelHandlerContext ctx, int opt, NbdExportInfo e) {
        byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
        byte[] desc = e.description().getBytes(StandardCharsets.UTF_8);
        ByteBuf d = ctx.alloc().buffer(4 + name.length + desc.length);
        d.writeInt(name.length).writeBytes(name).writeBytes(desc);
        reply(ctx, opt, NBD_REP_SERVER, d);
    }

    /**
     * The answer to a successful NBD_OPT_INFO or NBD_OPT_GO: NBD_INFO_EXPORT, the name and
     * description if asked for, the block sizes, then the ACK.
     */
    static void info(ChannelHandlerContext ctx, int opt, NbdOptionParser.InfoRequest req, NbdExportInfo info, int flags) {
        ByteBuf ex = ctx.alloc().buffer(12).writeShort(NBD_INFO_EXPORT).writeLong(info.size()).writeShort(flags);
        reply(ctx, opt, NBD_REP_INFO, ex);
        for (int type : req.infos()) {
            if (type == NBD_INFO_NAME) {
                infoString(ctx, opt, NBD_INFO_NAME, info.name());
            } else if (type == NBD_INFO_DESCRIPTION) {
                infoString(ctx, opt, NBD_INFO_DESCRIPTION, info.description());
            }
        }
        // Block sizes are always sent (as qemu-nbd does): clients then size their requests well.
        ByteBuf bs = ctx.alloc().buffer(14).writeShort(NBD_INFO_BLOCK_SIZE).writeInt(NbdLimits.MIN_BLOCK_SIZE)
                .writeInt(NbdLimits.PREFERRED_BLOCK_SIZE).writeInt(NbdLimits.MAX_BLOCK_SIZE);
        reply(ctx, opt, NBD_REP_INFO, bs);
        ack(ctx, opt);
    }

    private static void infoString(ChannelHandlerContext ctx, int opt, int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        reply(ctx, opt, NBD_REP_INFO, ctx.alloc().buffer(2 + b.length).writeShort(type).writeBytes(b));
    }

    /** NBD_OPT_EXPORT_NAME's reply: size and flags, then 124 zero bytes unless the client set NO_ZEROES. */
    static void exportName(ChannelHandlerContext ctx, NbdExportInfo info, int flags, boolean noZeroes) {
        ByteBuf d = ctx.alloc().buffer(noZeroes ? 10 : 134);
        d.writeLong(info.size()).writeShort(flags);
        if (!noZeroes) {
            d.writeZero(124);
        }
        ctx.write(d);
    }

    /** A failed lookup's message for the client, without the CompletionException wrapping. */
    static String message(Throwable t) {
        Throwable c = t;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage() != null ? c.getMessage() : c.toString();
    }
}
