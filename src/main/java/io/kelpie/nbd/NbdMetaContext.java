package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

import java.nio.charset.StandardCharsets;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * The metadata context negotiation of one connection (NBD_OPT_LIST_META_CONTEXT and
 * NBD_OPT_SET_META_CONTEXT). The only context is base:allocation; which export it was selected
 * for decides whether the session gets block status, with context id {@link #BASE_ALLOCATION_ID}.
 */
final class NbdMetaContext {
    static final int BASE_ALLOCATION_ID = 1;

    /** Canonical name of the export base:allocation was selected for, null for none. */
    private String export;

    /**
     * One option: the export it names and whether base:allocation is in its answer.
     *
     * @param set true for NBD_OPT_SET_META_CONTEXT
     */
    record Query(boolean set, String exportName, boolean selected) {
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
        boolean match = false;
        for (String q : req.queries()) {
            // base:allocation is the only context; "base:" lists every base context.
            match |= q.equals(BASE_ALLOCATION) || (!set && q.equals("base:"));
        }
        // LIST without queries lists every context; SET without queries selects none.
        return new Query(set, req.name(), set ? match : req.queries().isEmpty() || match);
    }

    /** The export of {@code q} exists as {@code name}: the context (if selected) and the ACK; a SET selects it. */
    void answer(ChannelHandlerContext ctx, int opt, Query q, String name) {
        if (q.selected()) {
            byte[] context = BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            ByteBuf d = ctx.alloc().buffer(4 + context.length).writeInt(q.set() ? BASE_ALLOCATION_ID : 0).writeBytes(context);
            NbdOptionReplies.reply(ctx, opt, NBD_REP_META_CONTEXT, d);
            if (q.set()) {
                export = name;
            }
        }
        NbdOptionReplies.ack(ctx, opt);
    }

    /** The context id a session on export {@code name} reports block status with; 0 for none. */
    int contextFor(String name) {
        return name.equals(export) ? BASE_ALLOCATION_ID : 0;
    }
}
