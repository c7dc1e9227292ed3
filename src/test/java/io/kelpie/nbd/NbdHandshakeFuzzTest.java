package io.kelpie.nbd;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.kelpie.fuzz.Fuzz;
import io.kelpie.fuzz.Sink;
import io.kelpie.fuzz.TrackingAllocator;
import io.kelpie.fuzz.WireCase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Properties of the handshake (with the option parser and the metadata contexts behind it) under
 * random and mutated option sequences against in-memory exports: every reply is a well-formed
 * frame, or the connection closes; a valid sequence gets one final reply per option, in order; no
 * exception reaches the handshake's exceptionCaught; no buffer and no export is left behind.
 */
class NbdHandshakeFuzzTest {
    /** What a client sends: its flags, options, then (after GO/EXPORT_NAME) transmission requests. */
    sealed interface Msg permits Flags, Opt, Raw, Bytes {
    }

    /** Raw bytes, for the corpus: garbage where a message belongs. */
    record Bytes(byte[] bytes) implements Msg {
        @Override
        public String toString() {
            return "Bytes(" + bytes.length + ")";
        }
    }

    record Flags(int flags) implements Msg {
    }

    /** An option; {@code ends} when, sent intact, it ends option haggling (ABORT, EXPORT_NAME, a GO that opens). */
    record Opt(int code, byte[] data, boolean ends) implements Msg {
        @Override
        public String toString() {
            return optionName(code) + "(" + data.length + " bytes" + (ends ? ", ends" : "") + ")";
        }
    }

    record Raw(NbdRequestDecoderFuzzTest.Req request) implements Msg {
    }

    static final WireCase.Codec<Msg> CODEC = new WireCase.Codec<>() {
        @Override
        public byte[] encode(Msg m) {
            if (m instanceof Flags f) {
                return bytes(Unpooled.buffer().writeInt(f.flags));
            }
            if (m instanceof Opt o) {
                return bytes(Unpooled.buffer().writeLong(IHAVEOPT).writeInt(o.code).writeInt(o.data.length).writeBytes(o.data));
            }
            if (m instanceof Bytes b) {
                return b.bytes;
            }
            return NbdRequestDecoderFuzzTest.CODEC.encode(((Raw) m).request);
        }

        @Override
        public List<Msg> simpler(Msg m) {
            return m instanceof Opt o && o.data.length > 0 && !o.ends
                    ? List.of(new Opt(o.code, new byte[0], false)) : List.of();
        }
    };

    static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.readBytes(a).release();
        return a;
    }

    static final String[] NAMES = {"disk", "disk@snap", "nope", "", "disk\u00e9"};
    static final String[] QUERIES = {BASE_ALLOCATION, ALLOCATION_DEPTH, "base:", "qemu:", "x:y", ""};

    static Opt option(SplittableRandom r) {
        String name = r.nextInt(16) == 0 ? "x".repeat(MAX_STRING - 1 + r.nextInt(3)) : NAMES[r.nextInt(NAMES.length)];
        boolean exists = name.equals("disk") || name.equals("disk@snap");
        int code = new int[]{NBD_OPT_LIST, NBD_OPT_STRUCTURED_REPLY, NBD_OPT_STRUCTURED_REPLY, NBD_OPT_INFO, NBD_OPT_INFO,
                NBD_OPT_GO, NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT, NBD_OPT_SET_META_CONTEXT,
                NBD_OPT_EXPORT_NAME, NBD_OPT_ABORT, NBD_OPT_STARTTLS, r.nextInt(64)}[r.nextInt(13)];
        if (r.nextInt(8) == 0) { // junk data for any option
            byte[] junk = new byte[r.nextInt(40)];
            r.nextBytes(junk);
            return new Opt(code, junk, code == NBD_OPT_ABORT || code == NBD_OPT_EXPORT_NAME);
        }
        return switch (code) {
            case NBD_OPT_INFO, NBD_OPT_GO -> {
                int[] infos = new int[r.nextInt(4)];
                for (int i = 0; i < infos.length; i++) {
                    infos[i] = r.nextInt(6);
                }
                yield new Opt(code, bytes(NbdHandshakeHandlerTest.infoData(name, infos)), code == NBD_OPT_GO && exists);
            }
            case NBD_OPT_LIST_META_CONTEXT, NBD_OPT_SET_META_CONTEXT -> {
                String[] q = new String[r.nextInt(16) == 0 ? NbdLimits.MAX_QUERIES - 2 + r.nextInt(5) : r.nextInt(4)];
                for (int i = 0; i < q.length; i++) {
                    q[i] = QUERIES[r.nextInt(QUERIES.length)];
                }
                yield new Opt(code, bytes(NbdHandshakeHandlerTest.metaData(name, q)), false);
            }
            case NBD_OPT_EXPORT_NAME -> new Opt(code, name.getBytes(java.nio.charset.StandardCharsets.UTF_8), true);
            case NBD_OPT_ABORT -> new Opt(code, new byte[0], true);
            default -> new Opt(code, new byte[0], false);
        };
    }

    static WireCase<Msg> session(SplittableRandom r, boolean mutate) {
        List<Msg> m = new ArrayList<>();
        int flags = new int[]{NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES, NBD_FLAG_C_FIXED_NEWSTYLE, 0,
                r.nextInt()}[r.nextInt(4)];
        m.add(new Flags(flags));
        for (int i = r.nextInt(9); i > 0; i--) {
            m.add(option(r));
        }
        for (int i = r.nextInt(3); i > 0; i--) {
            m.add(new Raw(NbdRequestDecoderFuzzTest.request(r)));
        }
        // option length (12) and the first u32 of its data (16): a name's or a query count's length
        WireCase.Mutation mu = mutate ? WireCase.mutation(r, m.size(), 12, 16) : WireCase.Mutation.NONE;
        return new WireCase<>(m, mu, WireCase.pieces(r));
    }

    private static final Logger HANDSHAKE_LOG = (Logger) LoggerFactory.getLogger(NbdHandshakeHandler.class);
    private static final ListAppender<ILoggingEvent> LOG = new ListAppender<>();
    private static Level level;

    /** The handshake swallows what reaches its exceptionCaught (logging it at debug): its log is the only witness. */
    @BeforeAll
    static void listen() {
        level = HANDSHAKE_LOG.getLevel();
        HANDSHAKE_LOG.setLevel(Level.DEBUG);
        HANDSHAKE_LOG.setAdditive(false);
        LOG.start();
        HANDSHAKE_LOG.addAppender(LOG);
    }

    @AfterAll
    static void unlisten() {
        HANDSHAKE_LOG.detachAppender(LOG);
        HANDSHAKE_LOG.setAdditive(true);
        HANDSHAKE_LOG.setLevel(level);
    }

    @Test
    void validOptionSequencesGetOneFinalReplyPerOptionInOrder() {
        Fuzz.check("NBD valid option sequences", 400, r -> session(r, false), c -> c.shrink(CODEC),
                c -> handshake(c));
    }

    @Test
    void mutatedOptionSequencesGetWellFormedRepliesOrClose() {
        Fuzz.check("NBD mutated option sequences", 1000, r -> session(r, true), c -> c.shrink(CODEC),
                c -> handshake(c));
    }

    static Opt opt(int code, ByteBuf data, boolean ends) {
        return new Opt(code, bytes(data), ends);
    }

    /** How a case ended: final option replies, whether transmission began, whether the connection is open. */
    record Outcome(int finals, boolean transmission, boolean open) {
    }

    static Outcome handshake(WireCase<Msg> c) {
        WireCase.Wire w = c.wire(CODEC);
        TrackingAllocator alloc = new TrackingAllocator();
        TestExports exports = new TestExports().add("disk", 1 << 20, false).add("disk@snap", 1 << 20, true);
        Sink sink = new Sink();
        LOG.list.clear();
        EmbeddedChannel ch = Sink.channel(alloc, new NbdHandshakeHandler(exports), sink);
        ByteBuf out = Unpooled.buffer();
        Outcome outcome;
        try {
            Sink.feed(ch, WireCase.split(w.bytes(), c.pieces(), alloc));
            ch.runPendingTasks();
            for (Object o; (o = ch.readOutbound()) != null; ) {
                out.writeBytes((ByteBuf) o);
                ((ByteBuf) o).release();
            }
            for (ILoggingEvent e : LOG.list) {
                assertFalse(e.getMessage().equals("NBD client {}: {}") || e.getLevel().isGreaterOrEqual(Level.WARN),
                        "the handshake failed: " + e.getFormattedMessage());
            }
            NbdRequestDecoderFuzzTest.checkErrors(sink, ch);
            List<Integer> finals = replies(out, exports.session != null);
            if (c.mutation().kind() == WireCase.Kind.NONE) {
                model(c, finals, ch, exports);
            }
            outcome = new Outcome(finals.size(), exports.session != null, ch.isOpen());
        } finally {
            out.release();
            sink.releaseAll();
            ch.finishAndReleaseAll();
            exports.requests.forEach(NbdRequest::release);
        }
        assertEquals(exports.session != null ? 1 : 0, exports.opened - exports.closed, "exports left open");
        alloc.assertAllReleased(c);
        return outcome;
    }

    /** Parses everything the server wrote; returns the options of the final replies (ACK or error), in order. */
    static List<Integer> replies(ByteBuf out, boolean transmission) {
        assertEquals(NBDMAGIC, out.readLong());
        assertEquals(IHAVEOPT, out.readLong());
        out.skipBytes(2);
        List<Integer> finals = new ArrayList<>();
        int pending = -1; // the option of a reply group still open
        while (out.isReadable()) {
            if (out.readableBytes() < 20 || out.getLong(out.readerIndex()) != NBD_OPTION_REPLY_MAGIC) {
                // only the old-style answer to NBD_OPT_EXPORT_NAME may follow the option replies
                assertTrue(transmission && pending == -1 && (out.readableBytes() == 10 || out.readableBytes() == 134),
                        "not an option reply: " + io.netty.buffer.ByteBufUtil.hexDump(out));
                return finals;
            }
            out.skipBytes(8);
            int opt = out.readInt();
            int type = out.readInt();
            int len = out.readInt();
            assertTrue(len >= 0 && len <= out.readableBytes(), "reply data of " + len + " bytes is not all there");
            ByteBuf d = out.readSlice(len);
            assertTrue(pending == -1 || pending == opt, "reply to " + optionName(opt) + " inside the replies to "
                    + optionName(pending));
            switch (type) {
                case NBD_REP_ACK -> assertEquals(0, len, "ACK with data");
                case NBD_REP_SERVER -> assertTrue(len >= 4 && d.getUnsignedInt(0) <= len - 4, "bad NBD_REP_SERVER");
                case NBD_REP_META_CONTEXT -> assertTrue(len > 4, "bad NBD_REP_META_CONTEXT");
                case NBD_REP_INFO -> {
                    assertTrue(len >= 2, "NBD_REP_INFO without a type");
                    int info = d.getUnsignedShort(0);
                    assertTrue(info == NBD_INFO_NAME || info == NBD_INFO_DESCRIPTION
                            || info == NBD_INFO_EXPORT && len == 12 || info == NBD_INFO_BLOCK_SIZE && len == 14,
                            "bad NBD_REP_INFO " + info + " of " + len + " bytes");
                }
                default -> {
                    int err = type & ~NBD_REP_FLAG_ERROR;
                    assertTrue(type < 0 && err >= 1 && err <= 9, "unknown reply type 0x" + Integer.toHexString(type));
                    assertTrue(len <= MAX_STRING, "error message too long");
                }
            }
            boolean last = type == NBD_REP_ACK || type < 0;
            pending = last ? -1 : opt;
            if (last) {
                finals.add(opt);
            }
        }
        assertEquals(-1, pending, "replies to " + optionName(pending) + " end without an ACK or error");
        return finals;
    }

    /**
     * An intact sequence: each option up to the one that ends haggling gets one final reply, in
     * order. A request sent before that is a bad option magic and closes the connection.
     */
    static void model(WireCase<Msg> c, List<Integer> finals, EmbeddedChannel ch, TestExports exports) {
        List<Msg> frames = c.frames();
        boolean hasFlags = !frames.isEmpty() && frames.get(0) instanceof Flags;
        int flags = hasFlags ? ((Flags) frames.get(0)).flags() : 0;
        boolean flagsOk = hasFlags && (flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) == 0;
        boolean broken = !flagsOk && !frames.isEmpty();
        List<Integer> want = new ArrayList<>();
        Opt end = null;
        int raws = 0;
        int options = 0;
        for (Msg m : frames.subList(hasFlags ? 1 : 0, frames.size())) {
            if (broken) {
                break;
            }
            if (m instanceof Opt o && end == null) {
                if (++options > NbdLimits.MAX_OPTIONS) {
                    broken = true;
                } else if (o.ends && o.code == NBD_OPT_EXPORT_NAME) {
                    end = o;
                } else {
                    want.add(o.code);
                    end = o.ends ? o : null;
                }
            } else if (!(m instanceof Opt) && end == null) { // not an option: a bad option magic
                broken = true;
            } else if (m instanceof Raw && end.code != NBD_OPT_ABORT) {
                raws++;
            }
        }
        assertEquals(want.stream().map(NbdConstants::optionName).toList(), finals.stream().map(NbdConstants::optionName).toList());
        boolean opened = end != null && (end.code == NBD_OPT_GO || end.code == NBD_OPT_EXPORT_NAME
                && List.of("disk", "disk@snap").contains(new String(end.data, java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals(opened, exports.session != null, "entered transmission");
        // a request a GO let through may be invalid and close the connection; anything else stays as it was
        if (!opened) {
            assertEquals(!broken && end == null, ch.isOpen(), "connection open");
        } else if (ch.isOpen()) {
            assertEquals(raws, exports.requests.size(), "requests that reached transmission");
        }
    }
}
