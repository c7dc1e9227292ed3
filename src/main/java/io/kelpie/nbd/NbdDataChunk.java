package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/** An NBD_REPLY_TYPE_OFFSET_DATA chunk: {@code data} (owned by the message) read at {@code offset}. */
public final class NbdDataChunk extends DefaultByteBufHolder implements NbdReply {
    private final long cookie;
    private final boolean done;
    private final long offset;

    public NbdDataChunk(long cookie, boolean done, long offset, ByteBuf data) {
        super(data);
        this.cookie = cookie;
        this.done = done;
        this.offset = offset;
    }

    @Override
    public long cookie() {
        return cookie;
    }

    public boolean done() {
        return done;
    }

    public long offset() {
        return offset;
    }
}
