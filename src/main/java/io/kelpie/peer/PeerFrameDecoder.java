package io.kelpie.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The state machine both decoders share: a fixed header (checked magic, capped data length), then
 * the payload as a retained slice of the input. A bad magic or an oversized length means the stream
 * can no longer be trusted: the rest is discarded and the connection closed.
 */
abstract class PeerFrameDecoder extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(PeerFrameDecoder.class);

    private enum State { HEADER, PAYLOAD, BAD }

    private final int headerSize;
    private final int magic;
    private State state = State.HEADER;
    private int dataLength;
    /**
     * A large payload's own buffer, filled as its bytes arrive. Left to the cumulation, a 4 MiB
     * FETCH_OBJ response is copied at every doubling (64 KiB to 8 MiB) into allocations beyond the
     * pool's chunk size, each new and zeroed; this way it costs one allocation and one copy.
     */
    private ByteBuf large;
    static final int LARGE = 256 << 10;

    PeerFrameDecoder(int headerSize, int magic) {
        this.headerSize = headerSize;
        this.magic = magic;
    }

    /** Reads the header fields after the magic; returns the data length field. */
    abstract int readHeader(ByteBuf in);

    /** Builds the message from the header just read and its payload (owned by the message). */
    abstract Object build(ByteBuf payload);

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER:
                if (in.readableBytes() < headerSize) {
                    return;
                }
                int m = in.readInt();
                if (m != magic) {
                    fail(ctx, in, new CorruptedFrameException("bad magic 0x" + Integer.toHexString(m) + " from "
                            + ctx.channel().remoteAddress()));
                    return;
                }
                long len = readHeader(in) & 0xFFFFFFFFL;
                if (len > PeerConstants.MAX_PAYLOAD) {
                    fail(ctx, in, new TooLongFrameException("payload of " + len + " bytes exceeds the limit of "
                            + PeerConstants.MAX_PAYLOAD + " from " + ctx.channel().remoteAddress()));
                    return;
                }
                dataLength = (int) len;
                state = State.PAYLOAD;
                // fall through
            case PAYLOAD:
                if (large == null && dataLength >= LARGE && in.readableBytes() < dataLength) {
                    large = ctx.alloc().directBuffer(dataLength, dataLength);
                }
                ByteBuf payload;
                if (large != null) {
                    large.writeBytes(in, Math.min(in.readableBytes(), large.writableBytes()));
                    if (large.isWritable()) {
                        return;
                    }
                    payload = large;
                    large = null;
                } else if (in.readableBytes() < dataLength) {
                    return;
                } else {
                    payload = dataLength == 0 ? Unpooled.EMPTY_BUFFER : in.readRetainedSlice(dataLength);
                }
                state = State.HEADER;
                out.add(build(payload));
                return;
            case BAD:
            default:
                in.skipBytes(in.readableBytes());
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (large != null) { // the connection closed mid-payload
            large.release();
            large = null;
        }
    }

    private void fail(ChannelHandlerContext ctx, ByteBuf in, RuntimeException e) {
        state = State.BAD;
        in.skipBytes(in.readableBytes());
        log.warn("closing peer connection: {}", e.getMessage());
        ctx.close();
    }
}
