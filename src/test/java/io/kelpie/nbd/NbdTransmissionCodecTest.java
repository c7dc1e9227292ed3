package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

class NbdTransmissionCodecTest {
    static ByteBuf request(int flags, int type, long cookie, long offset, long length) {
        return Unpooled.buffer().writeInt(NBD_REQUEST_MAGIC).writeShort(flags).writeShort(type).writeLong(cookie)
                .writeLong(offset).writeInt((int) length);
    }

    @Test
    void decodesHeaderAndWritePayloadSplitAnywhere() {
        byte[] payload = new byte[5000];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        ByteBuf wire = Unpooled.buffer();
        wire.writeBytes(request(NBD_CMD_FLAG_FUA, NBD_CMD_WRITE, 0xdeadbeefcafeL, 4096, payload.length)).writeBytes(payload);
        wire.writeBytes(request(0, NBD_CMD_READ, 2, -512L, 0xffffffffL));
        wire.writeBytes(request(0, NBD_CMD_FLUSH, 3, 0, 0));
        for (int step : new int[]{1, 3, 27, 28, 29, 4096, wire.readableBytes()}) {
            EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE));
            ByteBuf in = wire.duplicate();
            while (in.isReadable()) {
                ch.writeInbound(in.readRetainedSlice(Math.min(step, in.readableBytes())));
            }
            NbdRequest w = ch.readInbound();
            assertEquals(NBD_CMD_WRITE, w.type());
            assertEquals(NBD_CMD_FLAG_FUA, w.flags());
            assertEquals(0xdeadbeefcafeL, w.cookie());
            assertEquals(4096, w.offset());
            assertEquals(Unpooled.wrappedBuffer(payload), w.content());
            w.release();
            NbdRequest r = ch.readInbound();
            assertEquals(NBD_CMD_READ, r.type());
            assertEquals(-512L, r.offset(), "offsets are raw u64");
            assertEquals(0xffffffffL, r.length(), "lengths are unsigned");
            assertEquals(0, r.content().readableBytes());
            r.release();
            NbdRequest f = ch.readInbound();
            assertEquals(NBD_CMD_FLUSH, f.type());
            f.release();
            assertNull(ch.readInbound());
            assertFalse(ch.finishAndReleaseAll());
        }
        wire.release();
    }

    @Test
    void largeWritePayloadIsGatheredFromManyReadsIntact() {
        byte[] payload = new byte[NbdRequestDecoder.GATHER_THRESHOLD * 3 + 17];
        new java.util.Random(7).nextBytes(payload);
        ByteBuf wire = Unpooled.buffer();
        wire.writeBytes(request(0, NBD_CMD_WRITE, 1, 1 << 20, payload.length)).writeBytes(payload);
        wire.writeBytes(request(0, NBD_CMD_WRITE, 2, 0, 4)).writeInt(0x01020304);
        for (int step : new int[]{7, 4096, 65536, 65536 + 28, wire.readableBytes()}) {
            EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE));
            ByteBuf in = wire.duplicate();
            while (in.isReadable()) {
                ByteBuf part = Unpooled.directBuffer(step).writeBytes(in, Math.min(step, in.readableBytes()));
                ch.writeInbound(part);
            }
            NbdRequest w = ch.readInbound();
            assertEquals(1, w.cookie());
            assertEquals(payload.length, w.content().readableBytes());
            assertEquals(Unpooled.wrappedBuffer(payload), w.content(), "step " + step);
            w.release();
            NbdRequest small = ch.readInbound();
            assertEquals(2, small.cookie());
            assertEquals(0x01020304, small.content().getInt(small.content().readerIndex()));
            small.release();
            assertNull(ch.readInbound());
            assertFalse(ch.finishAndReleaseAll());
        }
        wire.release();
    }

    @Test
    void partialLargePayloadIsReleasedWhenTheConnectionCloses() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE));
        ByteBuf head = request(0, NBD_CMD_WRITE, 1, 0, 1 << 20).writeZero(200_000);
        ByteBuf direct = Unpooled.directBuffer(head.readableBytes()).writeBytes(head);
        head.release();
        ch.writeInbound(direct);
        assertNull(ch.readInbound());
        assertTrue(direct.refCnt() > 0, "payload part still held while incomplete");
        ch.finishAndReleaseAll();
        ch.close();
        assertEquals(0, direct.refCnt(), "the gathered part is released with the decoder");
    }

    @Test
    void badMagicFailsTheDecoder() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE));
        ByteBuf bad = Unpooled.buffer().writeInt(0x12345678).writeZero(24);
        assertThrows(io.netty.handler.codec.DecoderException.class, () -> ch.writeInbound(bad));
        // later bytes are ignored, never decoded as requests
        ch.writeInbound(request(0, NBD_CMD_READ, 1, 0, 512));
        assertNull(ch.readInbound());
        ch.finishAndReleaseAll();
    }

    @Test
    void writeOverTheCapFailsBeforeAnyPayloadIsBuffered() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE));
        assertThrows(io.netty.handler.codec.DecoderException.class,
                () -> ch.writeInbound(request(0, NBD_CMD_WRITE, 1, 0, 0xffffffffL)));
        ch.finishAndReleaseAll();
        EmbeddedChannel ok = new EmbeddedChannel(new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE));
        ok.writeInbound(request(0, NBD_CMD_WRITE, 1, 0, NbdLimits.MAX_REQUEST_SIZE));
        assertNull(ok.readInbound(), "64 MiB write is accepted and waits for its payload");
        ok.finishAndReleaseAll();
    }

    private static ByteBuf encode(Object reply) {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyEncoder());
        ch.writeOutbound(reply);
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            all.writeBytes((ByteBuf) o);
            ((ByteBuf) o).release();
        }
        ch.finishAndReleaseAll();
        return all;
    }

    @Test
    void simpleReplies() {
        ByteBuf ok = encode(new NbdSimpleReply(9, 0, Unpooled.copiedBuffer(new byte[]{1, 2, 3})));
        assertEquals(NBD_SIMPLE_REPLY_MAGIC, ok.readInt());
        assertEquals(0, ok.readInt());
        assertEquals(9, ok.readLong());
        assertEquals(3, ok.readableBytes());
        ok.release();
        ByteBuf err = encode(NbdSimpleReply.error(10, NBD_EINVAL));
        assertEquals(16, err.readableBytes());
        err.skipBytes(4);
        assertEquals(NBD_EINVAL, err.readInt());
        err.release();
    }

    @Test
    void structuredChunkLayout() {
        ByteBuf data = encode(new NbdDataChunk(5, false, 8192, Unpooled.copiedBuffer(new byte[]{7, 7})));
        assertEquals(NBD_STRUCTURED_REPLY_MAGIC, data.readInt());
        assertEquals(0, data.readUnsignedShort());
        assertEquals(NBD_REPLY_TYPE_OFFSET_DATA, data.readUnsignedShort());
        assertEquals(5, data.readLong());
        assertEquals(10, data.readInt());
        assertEquals(8192, data.readLong());
        assertEquals(2, data.readableBytes());
        data.release();

        ByteBuf hole = encode(new NbdHoleChunk(5, true, 0, 4096));
        assertEquals(NBD_STRUCTURED_REPLY_MAGIC, hole.readInt());
        assertEquals(NBD_REPLY_FLAG_DONE, hole.readUnsignedShort());
        assertEquals(NBD_REPLY_TYPE_OFFSET_HOLE, hole.readUnsignedShort());
        assertEquals(5, hole.readLong());
        assertEquals(12, hole.readInt());
        assertEquals(0, hole.readLong());
        assertEquals(4096, hole.readInt());
        assertFalse(hole.isReadable());
        hole.release();

        ByteBuf bs = encode(new NbdBlockStatusChunk(6, true, 1, new int[]{4096, -4096}, new int[]{0, 3}));
        bs.skipBytes(4);
        assertEquals(NBD_REPLY_FLAG_DONE, bs.readUnsignedShort());
        assertEquals(NBD_REPLY_TYPE_BLOCK_STATUS, bs.readUnsignedShort());
        assertEquals(6, bs.readLong());
        assertEquals(20, bs.readInt());
        assertEquals(1, bs.readInt());
        assertEquals(4096, bs.readInt());
        assertEquals(0, bs.readInt());
        assertEquals(0xfffff000L, bs.readUnsignedInt());
        assertEquals(NBD_STATE_HOLE | NBD_STATE_ZERO, bs.readInt());
        bs.release();

        ByteBuf err = encode(new NbdErrorChunk(7, NBD_ENOSPC, "full"));
        err.skipBytes(4);
        assertEquals(NBD_REPLY_FLAG_DONE, err.readUnsignedShort());
        assertEquals(NBD_REPLY_TYPE_ERROR, err.readUnsignedShort());
        assertEquals(7, err.readLong());
        assertEquals(10, err.readInt());
        assertEquals(NBD_ENOSPC, err.readInt());
        assertEquals(4, err.readUnsignedShort());
        assertEquals("full", err.toString(StandardCharsets.UTF_8));
        err.release();
    }

    /** A reply from a file: its header as a buffer, then the region itself, handed on for sendfile. */
    @Test
    void fileRepliesQueueTheirHeaderThenTheRegion() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("nbd-file-reply", ".bin");
        try (java.nio.channels.FileChannel fc = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.READ)) {
            for (boolean structured : new boolean[]{false, true}) {
                io.netty.channel.DefaultFileRegion region = new io.netty.channel.DefaultFileRegion(fc, 4096, 1 << 20) {
                    @Override
                    protected void deallocate() {
                        // the test's channel stays open
                    }
                };
                NbdFileReply reply = structured ? NbdFileReply.chunk(11, true, 1 << 22, region) : NbdFileReply.simple(11, region);
                EmbeddedChannel ch = new EmbeddedChannel(new NbdReplyEncoder());
                ch.writeOutbound(reply);
                ByteBuf h = ch.readOutbound();
                if (structured) {
                    assertEquals(NBD_STRUCTURED_REPLY_MAGIC, h.readInt());
                    assertEquals(NBD_REPLY_FLAG_DONE, h.readUnsignedShort());
                    assertEquals(NBD_REPLY_TYPE_OFFSET_DATA, h.readUnsignedShort());
                    assertEquals(11, h.readLong());
                    assertEquals(8 + (1 << 20), h.readInt(), "the chunk's length counts the file's bytes");
                    assertEquals(1 << 22, h.readLong());
                } else {
                    assertEquals(NBD_SIMPLE_REPLY_MAGIC, h.readInt());
                    assertEquals(NBD_OK, h.readInt());
                    assertEquals(11, h.readLong());
                }
                assertFalse(h.isReadable());
                h.release();
                Object data = ch.readOutbound();
                assertSame(region, data);
                assertEquals(1, region.refCnt(), "the encoder passed its reference on");
                region.release();
                assertNull(ch.readOutbound());
                assertFalse(ch.finish());
            }
        } finally {
            java.nio.file.Files.delete(f);
        }
    }
}
