package io.kelpie.peer;

import io.kelpie.common.Status;
import io.netty.buffer.ByteBuf;

/** Decodes {@link PeerResponse}s (client side). */
public final class PeerResponseDecoder extends PeerFrameDecoder {
    private int opcode;
    private int status;
    private long epoch;
    private long id;

    public PeerResponseDecoder() {
        super(PeerConstants.RESPONSE_HEADER_SIZE, PeerConstants.RESPONSE_MAGIC, false);
    }

    @Override
    int readHeader(ByteBuf in) {
        opcode = in.readUnsignedShort();
        status = in.readUnsignedShort();
        epoch = in.readLong();
        id = in.readLong();
        return in.readInt();
    }

    @Override
    Object build(ByteBuf payload) {
        return new PeerResponse(opcode, Status.ofCode(status), epoch, id, payload);
    }
}
