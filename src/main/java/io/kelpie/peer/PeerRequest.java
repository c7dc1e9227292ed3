package io.kelpie.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One request of the peer protocol. Reference counted through its payload: whoever ends up holding
 * it (the encoder once written, the handler once served) releases it. The request id is assigned by
 * {@link PeerClient#send} unless set.
 */
public final class PeerRequest extends DefaultByteBufHolder {
    private final int opcode;
    private final int flags;
    private final long epoch;
    private long id;
    private final long oid;
    private final long offset;
    private final int length;

    public PeerRequest(int opcode, int flags, long epoch, long id, long oid, long offset, int length, ByteBuf payload) {
        super(payload);
        this.opcode = opcode;
        this.flags = flags;
        this.epoch = epoch;
        this.id = id;
        this.oid = oid;
        this.offset = offset;
        this.length = length;
    }

    /** A request without payload. */
    public static PeerRequest of(int opcode, int flags, long epoch, long oid, long offset, int length) {
        return new PeerRequest(opcode, flags, epoch, 0, oid, offset, length, Unpooled.EMPTY_BUFFER);
    }

    /** A request carrying {@code payload} (ownership passes to the request). */
    public static PeerRequest withPayload(int opcode, int flags, long epoch, long oid, long offset, ByteBuf payload) {
        return new PeerRequest(opcode, flags, epoch, 0, oid, offset, 0, payload);
    }

    public int opcode() {
        return opcode;
    }

    public int flags() {
        return flags;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    public long epoch() {
        return epoch;
    }

    public long id() {
        return id;
    }

    void id(long id) {
        this.id = id;
    }

    public long oid() {
        return oid;
    }

    public long offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    public ByteBuf payload() {
        return content();
    }

    @Override
    public PeerRequest replace(ByteBuf content) {
        return new PeerRequest(opcode, flags, epoch, id, oid, offset, length, content);
    }

    @Override
    public PeerRequest retain() {
        super.retain();
        return this;
    }

    @Override
    public PeerRequest retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public PeerRequest touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return PeerConstants.opcodeName(opcode) + "[id=" + id + ", epoch=" + epoch + ", oid=" + Long.toHexString(oid)
                + ", offset=" + offset + ", length=" + length + ", flags=0x" + Integer.toHexString(flags)
                + ", data=" + content().readableBytes() + "]";
    }
}
