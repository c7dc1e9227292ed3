package io.kelpie.peer;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Encodes requests and responses: a small header buffer followed by the payload itself (retained,
 * not copied). Stateless, so one instance serves every channel.
 */
@ChannelHandler.Sharable
public final class PeerEncoder extends MessageToMessageEncoder<Object> {
    public static final PeerEncoder INSTANCE = new PeerEncoder();

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof PeerRequest || msg instanceof PeerResponse;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        ByteBuf payload;
        ByteBuf header;
        if (msg instanceof PeerRequest r) {
            payload = r.content();
            checkLength(payload);
            header = ctx.alloc().buffer(PeerConstants.REQUEST_HEADER_SIZE);
            header.writeInt(PeerConstants.REQUEST_MAGIC)
                    .writeShort(r.opcode())
                    .writeShort(r.flags())
                    .writeLong(r.epoch())
                    .writeLong(r.id())
                    .writeLong(r.oid())
                    .writeLong(r.offset())
                    .writeInt(r.length())
                    .writeInt(payload.readableBytes());
        } else {
            PeerResponse r = (PeerResponse) msg;
            payload = r.content();
            checkLength(payload);
            header = ctx.alloc().buffer(PeerConstants.RESPONSE_HEADER_SIZE);
            header.writeInt(PeerConstants.RESPONSE_MAGIC)
                    .writeShort(r.opcode())
                    .writeShort(r.status().code())
                    .writeLong(r.epoch())
                    .writeLong(r.id())
                    .writeInt(payload.readableBytes());
        }
        out.add(header);
        if (payload.isReadable()) {
            out.add(payload.retain());
        }
    }

    private static void checkLength(ByteBuf payload) {
        if (payload.readableBytes() > PeerConstants.MAX_PAYLOAD) {
            throw new EncoderException("payload of " + payload.readableBytes() + " bytes exceeds the limit of "
                    + PeerConstants.MAX_PAYLOAD);
        }
    }
}
