package io.kelpie.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
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
     * A large payload as it arrives, gathered one of two ways. Left to the cumulation, a 4 MiB
     * payload would be copied at every doubling (64 KiB to 8 MiB) into allocations beyond the
     * pool's chunk size, each new and zeroed. Requests compose retained slices of each socket
     * read, never copied in user space (a replica's 1 MiB write paid a memcpy of its own for the
     * copy); responses fill one buffer of their own with one copy, since their readers want one
     * contiguous buffer (a fetched object goes to the store as one NIO buffer).
     */
    private ByteBuf large;
    private final boolean compose;
    static final int LARGE = 256 << 10;
    private static final int MAX_PARTS = 4096;

    PeerFrameDecoder(int headerSize, int magic, boolean compose) {
        this.headerSize = headerSize;
        this.magic = magic;
        this.compose = compose;
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
                    large = compose ? ctx.alloc().compositeDirectBuffer(MAX_PARTS) : ctx.alloc().directBuffer(dataLength, dataLength);
                }
                ByteBuf payload;
                if (large != null) {
                    int n = Math.min(in.readableBytes(), dataLength - large.readableBytes());
                    if (large instanceof CompositeByteBuf parts) {
                        parts.addComponent(true, in.readRetainedSlice(n));
                    } else {
                        large.writeBytes(in, n);
                    }
                    if (large.readableBytes() < dataLength) {
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
