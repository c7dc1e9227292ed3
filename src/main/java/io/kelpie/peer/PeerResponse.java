package io.kelpie.peer;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

/**
 * One response of the peer protocol: the status of the request with the same id and its payload
 * (data read, encoded admin results, or the error message). Reference counted through its payload.
 */
public final class PeerResponse extends DefaultByteBufHolder {
    private final int opcode;
    private final Status status;
    private final long epoch;
    private final long id;

    public PeerResponse(int opcode, Status status, long epoch, long id, ByteBuf payload) {
        super(payload);
        this.opcode = opcode;
        this.status = status;
        this.epoch = epoch;
        this.id = id;
    }

    public static PeerResponse ok(PeerRequest req, long epoch, ByteBuf payload) {
        return new PeerResponse(req.opcode(), Status.OK, epoch, req.id(), payload);
    }

    public static PeerResponse ok(PeerRequest req, long epoch) {
        return ok(req, epoch, Unpooled.EMPTY_BUFFER);
    }

    /** A failure carrying its message as payload (u16 length + UTF-8). */
    public static PeerResponse error(PeerRequest req, long epoch, Status status, String message) {
        ByteBuf msg = Unpooled.buffer();
        new WireWriter(msg).string(message == null ? status.description() : message);
        return new PeerResponse(req.opcode(), status, epoch, req.id(), msg);
    }

    public int opcode() {
        return opcode;
    }

    public Status status() {
        return status;
    }

    public boolean ok() {
        return status == Status.OK;
    }

    public long epoch() {
        return epoch;
    }

    public long id() {
        return id;
    }

    public ByteBuf payload() {
        return content();
    }

    /** The error message of a failed response (without consuming the payload). */
    public String errorMessage() {
        ByteBuf p = content();
        if (p.readableBytes() >= 2) {
            try {
                return new WireReader(p.duplicate()).string();
            } catch (RuntimeException ignored) {
                // fall through to the status text
            }
        }
        return status.description();
    }

    /** Throws the failure as a KelpieException (this response is left to the caller to release). */
    public PeerResponse check() {
        if (!ok()) {
            throw new KelpieException(status, errorMessage());
        }
        return this;
    }

    @Override
    public PeerResponse replace(ByteBuf content) {
        return new PeerResponse(opcode, status, epoch, id, content);
    }

    @Override
    public PeerResponse retain() {
        super.retain();
        return this;
    }

    @Override
    public PeerResponse retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public PeerResponse touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return PeerConstants.opcodeName(opcode) + "-response[id=" + id + ", status=" + status + ", epoch=" + epoch
                + ", data=" + content().readableBytes() + "]";
    }
}
