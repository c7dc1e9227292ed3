package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

class NbdHandshakeHandlerTest {
    private final TestExports exports = new TestExports().add("disk", 1 << 20, false).add("disk@snap", 1 << 20, true);
    private EmbeddedChannel ch;

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        exports.requests.forEach(NbdRequest::release);
    }

    private EmbeddedChannel connect(int clientFlags) {
        ch = new EmbeddedChannel(new NbdHandshakeHandler(exports));
        ByteBuf greeting = out();
        assertEquals(18, greeting.readableBytes());
        assertEquals(NBDMAGIC, greeting.readLong());
        assertEquals(IHAVEOPT, greeting.readLong());
        assertEquals(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES, greeting.readUnsignedShort());
        greeting.release();
        ch.writeInbound(Unpooled.buffer().writeInt(clientFlags));
        return ch;
    }

    /** Everything the server wrote since the last call, as one buffer. */
    private ByteBuf out() {
        ch.runPendingTasks();
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            all.writeBytes(b);
            b.release();
        }
        return all;
    }

    static ByteBuf option(int opt, ByteBuf data) {
        ByteBuf b = Unpooled.buffer().writeLong(IHAVEOPT).writeInt(opt).writeInt(data.readableBytes()).writeBytes(data);
        data.release();
        return b;
    }

    static ByteBuf option(int opt) {
        return option(opt, Unpooled.EMPTY_BUFFER);
    }

    static ByteBuf infoData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuf d = Unpooled.buffer().writeInt(n.length).writeBytes(n).writeShort(infos.length);
        for (int i : infos) {
            d.writeShort(i);
        }
        return d;
    }

    static ByteBuf metaData(String name, String... queries) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuf d = Unpooled.buffer().writeInt(n.length).writeBytes(n).writeInt(queries.length);
        for (String q : queries) {
            byte[] b = q.getBytes(StandardCharsets.UTF_8);
            d.writeInt(b.length).writeBytes(b);
        }
        return d;
    }

    /** Reads one option reply header, checks it, returns its data. */
    static ByteBuf reply(ByteBuf in, int opt, int type) {
        assertEquals(NBD_OPTION_REPLY_MAGIC, in.readLong(), "reply magic");
        assertEquals(optionName(opt), optionName(in.readInt()));
        assertEquals(replyName(type), replyName(in.readInt()));
        return in.readSlice(in.readInt());
    }

    @Test
    void listGivesEveryExportWithDescriptionThenAck() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ch.writeInbound(option(NBD_OPT_LIST));
        ByteBuf r = out();
        ByteBuf s1 = reply(r, NBD_OPT_LIST, NBD_REP_SERVER);
        assertEquals(4, s1.readInt());
        assertEquals("disk", s1.readCharSequence(4, StandardCharsets.UTF_8).toString());
        assertEquals("test export disk", s1.toString(StandardCharsets.UTF_8));
        ByteBuf s2 = reply(r, NBD_OPT_LIST, NBD_REP_SERVER);
        assertEquals(9, s2.readInt());
        reply(r, NBD_OPT_LIST, NBD_REP_ACK);
        assertFalse(r.isReadable());
        r.release();
        assertTrue(ch.isActive());
    }

    @Test
    void unknownClientFlagsDropTheConnection() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | 0x4);
        assertFalse(ch.isActive());
    }

    @Test
    void unknownOptionIsSkippedWholeAndRefusedThenSessionGoesOn() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE);
        ch.writeInbound(option(42, Unpooled.buffer().writeBytes(new byte[100])));
        ByteBuf r = out();
        reply(r, 42, NBD_REP_ERR_UNSUP);
        r.release();
        ch.writeInbound(option(NBD_OPT_STARTTLS));
        r = out();
        reply(r, NBD_OPT_STARTTLS, NBD_REP_ERR_POLICY); // known, but TLS is off here
        r.release();
        ch.writeInbound(option(NBD_OPT_LIST));
        r = out();
        reply(r, NBD_OPT_LIST, NBD_REP_SERVER);
        r.release();
    }

    @Test
    void unknownExportCanBeRetriedInTheSameSession() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ch.writeInbound(option(NBD_OPT_GO, infoData("nope")));
        ByteBuf r = out();
        ByteBuf msg = reply(r, NBD_OPT_GO, NBD_REP_ERR_UNKNOWN);
        assertTrue(msg.toString(StandardCharsets.UTF_8).contains("nope"));
        r.release();
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk")));
        r = out();
        ByteBuf info = reply(r, NBD_OPT_GO, NBD_REP_INFO);
        assertEquals(NBD_INFO_EXPORT, info.readUnsignedShort());
        assertEquals(1 << 20, info.readLong());
        r.release();
        assertNotNull(exports.session);
    }

    @Test
    void exportInUseElsewhereIsAPolicyRefusalWithItsReason() {
        exports.busy.add("disk");
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk")));
        ByteBuf r = out();
        ByteBuf msg = reply(r, NBD_OPT_GO, NBD_REP_ERR_POLICY);
        assertTrue(msg.toString(StandardCharsets.UTF_8).contains("in use on another node"));
        r.release();
        exports.busy.clear();
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk")));
        r = out();
        reply(r, NBD_OPT_GO, NBD_REP_INFO);
        r.release();
        assertNotNull(exports.session);
    }

    @Test
    void infoThenGoGiveTheSameAnswers() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ch.writeInbound(option(NBD_OPT_STRUCTURED_REPLY));
        out().release();
        ch.writeInbound(option(NBD_OPT_INFO, infoData("disk", NBD_INFO_NAME, NBD_INFO_DESCRIPTION, NBD_INFO_BLOCK_SIZE)));
        ByteBuf info = out();
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk", NBD_INFO_NAME, NBD_INFO_DESCRIPTION, NBD_INFO_BLOCK_SIZE)));
        ByteBuf go = out();
        assertEquals(info.readableBytes(), go.readableBytes());
        ByteBuf export = reply(info, NBD_OPT_INFO, NBD_REP_INFO);
        assertEquals(NBD_INFO_EXPORT, export.readUnsignedShort());
        assertEquals(1 << 20, export.readLong());
        int flags = export.readUnsignedShort();
        assertEquals(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM
                | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_DF | NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_CACHE
                | NBD_FLAG_SEND_FAST_ZERO, flags, transmissionFlagNames(flags));
        ByteBuf name = reply(info, NBD_OPT_INFO, NBD_REP_INFO);
        assertEquals(NBD_INFO_NAME, name.readUnsignedShort());
        assertEquals("disk", name.toString(StandardCharsets.UTF_8));
        ByteBuf desc = reply(info, NBD_OPT_INFO, NBD_REP_INFO);
        assertEquals(NBD_INFO_DESCRIPTION, desc.readUnsignedShort());
        ByteBuf bs = reply(info, NBD_OPT_INFO, NBD_REP_INFO);
        assertEquals(NBD_INFO_BLOCK_SIZE, bs.readUnsignedShort());
        assertEquals(1, bs.readInt());
        assertEquals(4096, bs.readInt());
        assertEquals(32 << 20, bs.readInt());
        reply(info, NBD_OPT_INFO, NBD_REP_ACK);
        assertFalse(info.isReadable());
        // GO: the same replies, only the option number in each header differs
        info.readerIndex(0);
        while (info.isReadable()) {
            info.skipBytes(8);
            go.skipBytes(8);
            assertEquals(NBD_OPT_INFO, info.readInt());
            assertEquals(NBD_OPT_GO, go.readInt());
            int n = 8;
            assertEquals(info.readSlice(n), go.readSlice(n));
            int len = info.getInt(info.readerIndex() - 4);
            assertEquals(info.readSlice(len), go.readSlice(len));
        }
        info.release();
        go.release();
        assertNull(ch.pipeline().get(NbdHandshakeHandler.class), "handshake handler removed after GO");
        assertNotNull(ch.pipeline().get(NbdRequestDecoder.class));
        assertTrue(exports.session.structuredReplies());
        assertEquals(0, exports.session.baseAllocationContext());
    }

    @Test
    void readOnlyExportAdvertisesNoWritesAndNoDfWithoutStructuredReplies() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk@snap")));
        ByteBuf r = out();
        ByteBuf export = reply(r, NBD_OPT_GO, NBD_REP_INFO);
        export.skipBytes(10);
        int flags = export.readUnsignedShort();
        assertEquals(NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA
                | NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_CACHE, flags, transmissionFlagNames(flags));
        r.release();
        assertTrue(exports.session.readOnly());
    }

    @Test
    void exportNameWithAndWithoutZeroes() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE);
        ch.writeInbound(option(NBD_OPT_EXPORT_NAME, Unpooled.copiedBuffer("disk", StandardCharsets.UTF_8)));
        ByteBuf r = out();
        assertEquals(134, r.readableBytes());
        assertEquals(1 << 20, r.readLong());
        assertEquals(NBD_FLAG_HAS_FLAGS, r.readUnsignedShort() & NBD_FLAG_HAS_FLAGS);
        r.release();
        ch.finishAndReleaseAll();

        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ch.writeInbound(option(NBD_OPT_EXPORT_NAME, Unpooled.copiedBuffer("disk", StandardCharsets.UTF_8)));
        r = out();
        assertEquals(10, r.readableBytes());
        r.release();
    }

    @Test
    void exportNameForUnknownExportEndsTheSession() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE);
        ch.writeInbound(option(NBD_OPT_EXPORT_NAME, Unpooled.copiedBuffer("nope", StandardCharsets.UTF_8)));
        ch.runPendingTasks();
        assertFalse(ch.isActive());
        assertEquals(0, exports.opened);
    }

    @Test
    void byteByByteHandshakeAndRequestsSentRightAfterGoReachTransmission() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ByteBuf all = Unpooled.buffer();
        all.writeBytes(option(NBD_OPT_STRUCTURED_REPLY));
        all.writeBytes(option(NBD_OPT_SET_META_CONTEXT, metaData("disk", "base:allocation")));
        all.writeBytes(option(NBD_OPT_GO, infoData("disk")));
        // A read request in the same byte stream: it must be handed to the transmission phase.
        all.writeInt(NBD_REQUEST_MAGIC).writeShort(0).writeShort(NBD_CMD_READ).writeLong(7).writeLong(512).writeInt(4096);
        while (all.isReadable()) {
            ch.writeInbound(all.readRetainedSlice(1));
            ch.runPendingTasks();
        }
        all.release();
        ByteBuf r = out();
        reply(r, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK);
        ByteBuf ctx = reply(r, NBD_OPT_SET_META_CONTEXT, NBD_REP_META_CONTEXT);
        int id = ctx.readInt();
        assertNotEquals(0, id);
        assertEquals(BASE_ALLOCATION, ctx.toString(StandardCharsets.UTF_8));
        reply(r, NBD_OPT_SET_META_CONTEXT, NBD_REP_ACK);
        reply(r, NBD_OPT_GO, NBD_REP_INFO);
        reply(r, NBD_OPT_GO, NBD_REP_INFO);
        reply(r, NBD_OPT_GO, NBD_REP_ACK);
        assertFalse(r.isReadable());
        r.release();
        assertEquals(id, exports.session.baseAllocationContext());
        assertEquals(1, exports.requests.size());
        assertEquals(7, exports.requests.get(0).cookie());
        assertEquals(4096, exports.requests.get(0).length());
    }

    @Test
    void metaContextNeedsStructuredRepliesAndItsExport() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ch.writeInbound(option(NBD_OPT_SET_META_CONTEXT, metaData("disk", "base:allocation")));
        ByteBuf r = out();
        reply(r, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID);
        r.release();
        ch.writeInbound(option(NBD_OPT_STRUCTURED_REPLY, Unpooled.buffer().writeInt(1)));
        r = out();
        reply(r, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_INVALID);
        r.release();
        ch.writeInbound(option(NBD_OPT_STRUCTURED_REPLY));
        out().release();
        // LIST with no query lists every context; unknown namespaces are ignored.
        ch.writeInbound(option(NBD_OPT_LIST_META_CONTEXT, metaData("disk")));
        r = out();
        assertEquals(BASE_ALLOCATION, reply(r, NBD_OPT_LIST_META_CONTEXT, NBD_REP_META_CONTEXT).skipBytes(4)
                .toString(StandardCharsets.UTF_8));
        assertEquals(ALLOCATION_DEPTH, reply(r, NBD_OPT_LIST_META_CONTEXT, NBD_REP_META_CONTEXT).skipBytes(4)
                .toString(StandardCharsets.UTF_8));
        reply(r, NBD_OPT_LIST_META_CONTEXT, NBD_REP_ACK);
        r.release();
        ch.writeInbound(option(NBD_OPT_SET_META_CONTEXT, metaData("disk", "qemu:dirty-bitmap:x")));
        r = out();
        reply(r, NBD_OPT_SET_META_CONTEXT, NBD_REP_ACK);
        r.release();
        ch.writeInbound(option(NBD_OPT_SET_META_CONTEXT, metaData("nope", "base:allocation")));
        r = out();
        reply(r, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_UNKNOWN);
        r.release();
        // A query count the data cannot hold is invalid, not a big allocation.
        ByteBuf bad = Unpooled.buffer().writeInt(4).writeBytes("disk".getBytes(StandardCharsets.UTF_8)).writeInt(-1);
        ch.writeInbound(option(NBD_OPT_SET_META_CONTEXT, bad));
        r = out();
        reply(r, NBD_OPT_SET_META_CONTEXT, NBD_REP_ERR_INVALID);
        r.release();
        // Contexts selected for another export do not carry over to GO.
        ch.writeInbound(option(NBD_OPT_SET_META_CONTEXT, metaData("disk@snap", "base:allocation")));
        out().release();
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk")));
        out().release();
        assertEquals(0, exports.session.baseAllocationContext());
    }

    @Test
    void malformedInfoLengthsAreInvalid() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        ByteBuf d = Unpooled.buffer().writeInt(0x7fffffff).writeShort(0);
        ch.writeInbound(option(NBD_OPT_GO, d));
        ByteBuf r = out();
        reply(r, NBD_OPT_GO, NBD_REP_ERR_INVALID);
        r.release();
        ByteBuf d2 = infoData("disk", NBD_INFO_NAME).writeByte(0);
        ch.writeInbound(option(NBD_OPT_INFO, d2));
        r = out();
        reply(r, NBD_OPT_INFO, NBD_REP_ERR_INVALID);
        r.release();
        ch.writeInbound(option(NBD_OPT_LIST, Unpooled.buffer().writeInt(0)));
        r = out();
        reply(r, NBD_OPT_LIST, NBD_REP_ERR_INVALID);
        r.release();
        assertTrue(ch.isActive());
    }

    @Test
    void hugeOptionLengthDropsTheConnectionWithoutBuffering() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE);
        ch.writeInbound(Unpooled.buffer().writeLong(IHAVEOPT).writeInt(NBD_OPT_GO).writeInt(-1));
        assertFalse(ch.isActive());
    }

    @Test
    void badOptionMagicDropsTheConnection() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE);
        ch.writeInbound(Unpooled.buffer().writeLong(0x1234).writeInt(NBD_OPT_LIST).writeInt(0));
        assertFalse(ch.isActive());
    }

    @Test
    void tooManyOptionsDropTheConnection() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE);
        for (int i = 0; i < NbdLimits.MAX_OPTIONS; i++) {
            ch.writeInbound(option(NBD_OPT_STRUCTURED_REPLY, Unpooled.buffer().writeByte(1)));
            out().release();
        }
        assertTrue(ch.isActive());
        ch.writeInbound(option(NBD_OPT_STRUCTURED_REPLY));
        assertFalse(ch.isActive());
    }

    @Test
    void abortIsAcknowledgedThenClosed() {
        connect(NBD_FLAG_C_FIXED_NEWSTYLE);
        ch.writeInbound(option(NBD_OPT_ABORT));
        ByteBuf r = out();
        reply(r, NBD_OPT_ABORT, NBD_REP_ACK);
        r.release();
        assertFalse(ch.isActive());
    }

    @Test
    void handshakeTimesOut() throws Exception {
        ch = new EmbeddedChannel(new NbdHandshakeHandler(exports, 50));
        Thread.sleep(120);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isActive());
    }

    @Test
    void openedExportIsClosedWhenClientLeavesDuringGo() {
        java.util.concurrent.CompletableFuture<NbdExport> pending = new java.util.concurrent.CompletableFuture<>();
        TestExports slow = new TestExports() {
            @Override
            public java.util.concurrent.CompletableFuture<NbdExport> open(String name, NbdClient client) {
                return pending;
            }
        };
        ch = new EmbeddedChannel(new NbdHandshakeHandler(slow));
        ch.writeInbound(Unpooled.buffer().writeInt(NBD_FLAG_C_FIXED_NEWSTYLE));
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk")));
        ch.close();
        int[] closed = {0};
        pending.complete(new NbdExport() {
            @Override
            public NbdExportInfo info() {
                return new NbdExportInfo("disk", "", 1, false);
            }

            @Override
            public void close() {
                closed[0]++;
            }
        });
        ch.runPendingTasks();
        assertEquals(1, closed[0]);
    }
}
