package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.nio.charset.StandardCharsets;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * The metadata context negotiation of one connection (NBD_OPT_LIST_META_CONTEXT and
 * NBD_OPT_SET_META_CONTEXT). Two contexts: base:allocation (id {@link #BASE_ALLOCATION_ID}) and
 * qemu:allocation-depth (id {@link #ALLOCATION_DEPTH_ID}), as qemu-nbd offers them. Which export
 * they were selected for decides whether the session gets them.
 */
final class NbdMetaContext {
    static final int BASE_ALLOCATION_ID = 1;
    static final int ALLOCATION_DEPTH_ID = 2;

    /** Canonical name of the export the contexts were selected for, null for none. */
    private String export;
    private boolean base;
    private boolean depth;

    /**
     * One option: the export it names and which contexts are in its answer.
     *
     * @param set true for NBD_OPT_SET_META_CONTEXT
     */
    record Query(boolean set, String exportName, boolean base, boolean depth) {
    }

    /**
     * Reads an option. A SET replaces the selection even when it fails, so it is forgotten first.
     * The exception's message is the whole text for the client.
     */
    Query parse(int opt, ByteBuf data, boolean structured) throws NbdOptionParser.InvalidOption {
        boolean set = opt == NBD_OPT_SET_META_CONTEXT;
        if (set) {
            export = null;
        }
        if (!structured) {
            throw new NbdOptionParser.InvalidOption(NBD_REP_ERR_INVALID, optionName(opt) + " needs NBD_OPT_STRUCTURED_REPLY first");
        }
        NbdOptionParser.MetaRequest req;
        try {
            req = NbdOptionParser.parseMeta(data);
        } catch (NbdOptionParser.InvalidOption e) {
            throw new NbdOptionParser.InvalidOption(e.reply(), optionName(opt) + ": " + e.getMessage());
        }
        boolean b = false;
        boolean d = false;
        for (String q : req.queries()) {
            // A bare namespace ("base:", "qemu:") lists all of it; only LIST may ask that way (as qemu-nbd).
            b |= q.equals(BASE_ALLOCATION) || (!set && q.equals("base:"));
            d |= q.equals(ALLOCATION_DEPTH) || (!set && q.equals("qemu:"));
        }
        // LIST without queries lists every context; SET without queries selects none.
        boolean all = !set && req.queries().isEmpty();
        return new Query(set, req.name(), all || b, all || d);
    }

    /** The export of {@code q} exists as {@code name}: the contexts (if selected) and the ACK; a SET selects them. */
    void answer(ChannelHandlerContext ctx, int opt, Query q, String name) {
        if (q.base()) {
            context(ctx, opt, q.set() ? BASE_ALLOCATION_ID : 0, BASE_ALLOCATION);
        }
        if (q.depth()) {
            context(ctx, opt, q.set() ? ALLOCATION_DEPTH_ID : 0, ALLOCATION_DEPTH);
        }
        if (q.set() && (q.base() || q.depth())) {
            export = name;
            base = q.base();
            depth = q.depth();
        }
        NbdOptionReplies.ack(ctx, opt);
    }

    private static void context(ChannelHandlerContext ctx, int opt, int id, String name) {
        byte[] context = name.getBytes(StandardCharsets.US_ASCII);
        ByteBuf d = ctx.alloc().buffer(4 + context.length).writeInt(id).writeBytes(context);
        NbdOptionReplies.reply(ctx, opt, NBD_REP_META_CONTEXT, d);
    }

    /** The id a session on export {@code name} reports base:allocation with; 0 for none. */
    int baseAllocationFor(String name) {
        return name.equals(export) && base ? BASE_ALLOCATION_ID : 0;
    }

    /** The id a session on export {@code name} reports qemu:allocation-depth with; 0 for none. */
    int allocationDepthFor(String name) {
        return name.equals(export) && depth ? ALLOCATION_DEPTH_ID : 0;
    }
}
