package io.kelpie.peer;

import io.netty.buffer.ByteBuf;

/** Decodes {@link PeerRequest}s (server side). */
public final class PeerRequestDecoder extends PeerFrameDecoder {
    private int opcode;
    private int flags;
    private long epoch;
    private long id;
    private long oid;
    private long offset;
    private int length;

    public PeerRequestDecoder() {
        super(PeerConstants.REQUEST_HEADER_SIZE, PeerConstants.REQUEST_MAGIC, true);
    }

    @Override
    int readHeader(ByteBuf in) {
        opcode = in.readUnsignedShort();
        flags = in.readUnsignedShort();
        epoch = in.readLong();
        id = in.readLong();
        oid = in.readLong();
        offset = in.readLong();
        length = in.readInt();
        return in.readInt();
    }

    @Override
    Object build(ByteBuf payload) {
        return new PeerRequest(opcode, flags, epoch, id, oid, offset, length, payload);
    }
}
