package io.kelpie.nbd;

import io.netty.channel.FileRegion;
import io.netty.util.ReferenceCounted;

/**
 * A successful READ's reply whose data is a range of a file (owned by the message): the transport
 * sends it from the page cache (sendfile) after the header. As a simple reply, or with structured
 * replies as an NBD_REPLY_TYPE_OFFSET_DATA chunk. Not for TLS connections: TLS encrypts buffers.
 */
public final class NbdFileReply implements NbdReply, ReferenceCounted {
    private final long cookie;
    private final boolean structured;
    private final boolean done;
    private final long offset;
    private final FileRegion data;

    private NbdFileReply(long cookie, boolean structured, boolean done, long offset, FileRegion data) {
        this.cookie = cookie;
        this.structured = structured;
        this.done = done;
        this.offset = offset;
        this.data = data;
    }

    /** A simple reply (error 0) carrying {@code data}. */
    public static NbdFileReply simple(long cookie, FileRegion data) {
        return new NbdFileReply(cookie, false, true, 0, data);
    }

    /** An OFFSET_DATA chunk of {@code data} read at {@code offset}. */
    public static NbdFileReply chunk(long cookie, boolean done, long offset, FileRegion data) {
        return new NbdFileReply(cookie, true, done, offset, data);
    }

    @Override
    public long cookie() {
        return cookie;
    }

    public boolean structured() {
        return structured;
    }

    public boolean done() {
        return done;
    }

    public long offset() {
        return offset;
    }

    public FileRegion data() {
        return data;
    }

    @Override
    public int refCnt() {
        return data.refCnt();
    }

    @Override
    public NbdFileReply retain() {
        data.retain();
        return this;
    }

    @Override
    public NbdFileReply retain(int increment) {
        data.retain(increment);
        return this;
    }

    @Override
    public NbdFileReply touch() {
        data.touch();
        return this;
    }

    @Override
    public NbdFileReply touch(Object hint) {
        data.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return data.release();
    }

    @Override
    public boolean release(int decrement) {
        return data.release(decrement);
    }
}
