package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * A transmission-phase request as decoded from the wire. {@code offset} and {@code length} are the
 * unsigned wire values (offset as a raw u64 in a long, length as a u32 in a long). The payload of a
 * WRITE is held (and released) with the message; other commands carry an empty buffer.
 */
public final class NbdRequest extends DefaultByteBufHolder {
    private final int flags;
    private final int type;
    private final long cookie;
    private final long offset;
    private final long length;

    public NbdRequest(int flags, int type, long cookie, long offset, long length, ByteBuf payload) {
        super(payload);
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
    }

    public NbdRequest(int flags, int type, long cookie, long offset, long length) {
        this(flags, type, cookie, offset, length, Unpooled.EMPTY_BUFFER);
    }

    public int flags() {
        return flags;
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    public int type() {
        return type;
    }

    public long cookie() {
        return cookie;
    }

    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }

    @Override
    public String toString() {
        return NbdConstants.commandName(type) + "(flags=0x" + Integer.toHexString(flags) + ", cookie=0x"
                + Long.toHexString(cookie) + ", offset=" + Long.toUnsignedString(offset) + ", length=" + length + ")";
    }
}
