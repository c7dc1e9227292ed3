package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;

import java.util.List;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * Decodes transmission-phase requests: a 28-byte header, then for NBD_CMD_WRITE its payload as a
 * retained slice. A bad magic or a write payload over {@code maxPayload} is a broken MUST or a
 * denial of service: the decoder fails and the connection is dropped (nothing is allocated from the
 * client's length before it is checked). Everything else is checked by {@link NbdRequestValidator}.
 *
 * <p>A large payload is not gathered in the cumulation buffer (which would grow by copying, once
 * per doubling): each socket read's part of it is sliced off as it arrives and the slices are
 * composed, so the payload is never copied in user space.
 */
public final class NbdRequestDecoder extends ByteToMessageDecoder {
    private enum State { HEADER, PAYLOAD, BROKEN }

    private final int maxPayload;
    private State state = State.HEADER;
    private int flags;
    private int type;
    private long cookie;
    private long offset;
    private int payloadLength;
    /** The payload received so far of a large write, null otherwise. */
    private CompositeByteBuf parts;

    /** Payloads up to this size wait in the cumulation buffer and become a single slice. */
    static final int GATHER_THRESHOLD = 64 << 10;
    private static final int MAX_PARTS = 4096;

    public NbdRequestDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case HEADER -> {
                if (in.readableBytes() < REQUEST_HEADER_SIZE) {
                    return;
                }
                int magic = in.readInt();
                if (magic != NBD_REQUEST_MAGIC) {
                    state = State.BROKEN;
                    throw new CorruptedFrameException("bad NBD request magic 0x" + Integer.toHexString(magic));
                }
                flags = in.readUnsignedShort();
                type = in.readUnsignedShort();
                cookie = in.readLong();
                offset = in.readLong();
                long length = in.readUnsignedInt();
                if (type != NBD_CMD_WRITE) {
                    out.add(new NbdRequest(flags, type, cookie, offset, length));
                    return;
                }
                if (length > maxPayload) {
                    state = State.BROKEN;
                    throw new TooLongFrameException("NBD_CMD_WRITE payload of " + length + " bytes exceeds the limit of "
                            + maxPayload);
                }
                payloadLength = (int) length;
                state = State.PAYLOAD;
                decodePayload(ctx, in, out);
            }
            case PAYLOAD -> decodePayload(ctx, in, out);
            case BROKEN -> in.skipBytes(in.readableBytes());
            default -> throw new IllegalStateException();
        }
    }

    private void decodePayload(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (parts == null && (in.readableBytes() >= payloadLength || payloadLength <= GATHER_THRESHOLD)) {
            if (in.readableBytes() < payloadLength) {
                return;
            }
            out.add(new NbdRequest(flags, type, cookie, offset, payloadLength, in.readRetainedSlice(payloadLength)));
            state = State.HEADER;
            return;
        }
        if (parts == null) {
            parts = ctx.alloc().compositeDirectBuffer(MAX_PARTS);
        }
        int n = Math.min(in.readableBytes(), payloadLength - parts.readableBytes());
        if (n > 0) {
            parts.addComponent(true, in.readRetainedSlice(n));
        }
        if (parts.readableBytes() == payloadLength) {
            ByteBuf payload = parts;
            parts = null;
            state = State.HEADER;
            out.add(new NbdRequest(flags, type, cookie, offset, payloadLength, payload));
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (parts != null) {
            parts.release();
            parts = null;
        }
    }
}
