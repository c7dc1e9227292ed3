package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/** A simple reply: error (0 for success) and, for a successful READ, the data (owned by the message). */
public final class NbdSimpleReply extends DefaultByteBufHolder implements NbdReply {
    private final long cookie;
    private final int error;

    public NbdSimpleReply(long cookie, int error, ByteBuf data) {
        super(data);
        this.cookie = cookie;
        this.error = error;
    }

    public static NbdSimpleReply ok(long cookie) {
        return new NbdSimpleReply(cookie, NbdConstants.NBD_OK, Unpooled.EMPTY_BUFFER);
    }

    public static NbdSimpleReply error(long cookie, int error) {
        return new NbdSimpleReply(cookie, error, Unpooled.EMPTY_BUFFER);
    }

    @Override
    public long cookie() {
        return cookie;
    }

    public int error() {
        return error;
    }
}
