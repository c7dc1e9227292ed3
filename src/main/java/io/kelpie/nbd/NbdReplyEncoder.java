package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * Encodes {@link NbdReply} messages. Read data is never copied: its header goes in a small buffer
 * that is queued just before the data, and the transport writes both (and the replies flushed with
 * them) with one writev; data in a file ({@link NbdFileReply}) follows its header by sendfile.
 */
@ChannelHandler.Sharable
public final class NbdReplyEncoder extends MessageToMessageEncoder<NbdReply> {
    public NbdReplyEncoder() {
        super(NbdReply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, NbdReply msg, List<Object> out) {
        if (msg instanceof NbdSimpleReply r) {
            ByteBuf data = r.content();
            ByteBuf h = ctx.alloc().directBuffer(SIMPLE_REPLY_HEADER_SIZE);
            h.writeInt(NBD_SIMPLE_REPLY_MAGIC).writeInt(r.error()).writeLong(r.cookie());
            withData(h, data, out);
        } else if (msg instanceof NbdDataChunk c) {
            ByteBuf data = c.content();
            ByteBuf h = chunkHeader(ctx, c.done(), NBD_REPLY_TYPE_OFFSET_DATA, c.cookie(), 8 + data.readableBytes(), 8);
            h.writeLong(c.offset());
            withData(h, data, out);
        } else if (msg instanceof NbdFileReply f) {
            long count = f.data().count();
            ByteBuf h;
            if (f.structured()) {
                h = chunkHeader(ctx, f.done(), NBD_REPLY_TYPE_OFFSET_DATA, f.cookie(), (int) (8 + count), 8);
                h.writeLong(f.offset());
            } else {
                h = ctx.alloc().directBuffer(SIMPLE_REPLY_HEADER_SIZE);
                h.writeInt(NBD_SIMPLE_REPLY_MAGIC).writeInt(NBD_OK).writeLong(f.cookie());
            }
            out.add(h);
            out.add(f.data().retain());
        } else if (msg instanceof NbdHoleChunk c) {
            ByteBuf h = chunkHeader(ctx, c.done(), NBD_REPLY_TYPE_OFFSET_HOLE, c.cookie(), 12, 12);
            out.add(h.writeLong(c.offset()).writeInt(c.length()));
        } else if (msg instanceof NbdBlockStatusChunk c) {
            int n = c.lengths().length;
            int len = 4 + 8 * n;
            ByteBuf h = chunkHeader(ctx, c.done(), NBD_REPLY_TYPE_BLOCK_STATUS, c.cookie(), len, len);
            h.writeInt(c.contextId());
            for (int i = 0; i < n; i++) {
                h.writeInt(c.lengths()[i]).writeInt(c.flags()[i]);
            }
            out.add(h);
        } else if (msg instanceof NbdErrorChunk c) {
            byte[] text = truncate(c.message());
            int len = 6 + text.length;
            ByteBuf h = chunkHeader(ctx, true, NBD_REPLY_TYPE_ERROR, c.cookie(), len, len);
            out.add(h.writeInt(c.error()).writeShort(text.length).writeBytes(text));
        } else {
            throw new IllegalArgumentException("unknown NBD reply " + msg.getClass().getName());
        }
    }

    private static ByteBuf chunkHeader(ChannelHandlerContext ctx, boolean done, int type, long cookie, int length, int extra) {
        ByteBuf h = ctx.alloc().directBuffer(STRUCTURED_REPLY_HEADER_SIZE + extra);
        return h.writeInt(NBD_STRUCTURED_REPLY_MAGIC).writeShort(done ? NBD_REPLY_FLAG_DONE : 0).writeShort(type)
                .writeLong(cookie).writeInt(length);
    }

    private static void withData(ByteBuf header, ByteBuf data, List<Object> out) {
        out.add(header);
        if (data.isReadable()) {
            out.add(data.retain());
        }
    }

    /** Error messages are strings: at most 4096 bytes on the wire, cut on a character boundary. */
    private static byte[] truncate(String message) {
        String m = message == null ? "" : message;
        byte[] b = m.getBytes(StandardCharsets.UTF_8);
        while (b.length > MAX_STRING) {
            m = m.substring(0, m.length() * 3 / 4);
            b = m.getBytes(StandardCharsets.UTF_8);
        }
        return b;
    }
}
