package io.kelpie.peer;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/** Decodes what {@link WireWriter} encoded; a truncated buffer fails with Status.INVALID. */
public final class WireReader {
    private final ByteBuf in;

    public WireReader(ByteBuf in) {
        this.in = in;
    }

    public ByteBuf buf() {
        return in;
    }

    public String string() {
        int n = need(2).readUnsignedShort();
        String s = need(n).toString(in.readerIndex(), n, StandardCharsets.UTF_8);
        in.skipBytes(n);
        return s;
    }

    public int i32() {
        return need(4).readInt();
    }

    public long i64() {
        return need(8).readLong();
    }

    public boolean bool() {
        return need(1).readByte() != 0;
    }

    public boolean hasMore() {
        return in.isReadable();
    }

    private ByteBuf need(int n) {
        if (in.readableBytes() < n) {
            throw new KelpieException(Status.INVALID, "truncated message: needed " + n + " more bytes, have "
                    + in.readableBytes());
        }
        return in;
    }
}
