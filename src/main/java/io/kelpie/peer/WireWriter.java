package io.kelpie.peer;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/** Encodes admin arguments and results: big-endian ints and longs, strings as u16 length + UTF-8. */
public final class WireWriter {
    private final ByteBuf out;

    public WireWriter(ByteBuf out) {
        this.out = out;
    }

    public ByteBuf buf() {
        return out;
    }

    public WireWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new IllegalArgumentException("string of " + b.length + " bytes is too long for the wire");
        }
        out.writeShort(b.length).writeBytes(b);
        return this;
    }

    public WireWriter i32(int v) {
        out.writeInt(v);
        return this;
    }

    public WireWriter i64(long v) {
        out.writeLong(v);
        return this;
    }

    public WireWriter bool(boolean v) {
        out.writeByte(v ? 1 : 0);
        return this;
    }
}
