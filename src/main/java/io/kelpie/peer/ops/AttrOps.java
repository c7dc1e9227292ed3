package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** Admin opcodes of VDI attributes (blocking: a set waits for the cluster's order). */
final class AttrOps {
    /** VDI_SETATTR flags. */
    static final int EXCLUSIVE = 1;
    static final int DELETE = 2;

    private AttrOps() {
    }

    /** VDI_SETATTR(name, key, i32 flags, value: the rest of the payload) -> nothing. */
    static final PeerOp<VdiService> SET = (service, req, ex) -> Blocking.noResult(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String name = r.string();
        String key = r.string();
        int flags = r.i32();
        ByteBuf rest = r.buf();
        byte[] value = new byte[rest.readableBytes()];
        rest.readBytes(value);
        if ((flags & ~(EXCLUSIVE | DELETE)) != 0) {
            throw new KelpieException(Status.INVALID, "unknown VDI_SETATTR flags " + flags);
        }
        service.vdis().setAttr(name, key, value, (flags & EXCLUSIVE) != 0, (flags & DELETE) != 0);
    });

    /** VDI_GETATTR(name, key) -> the value, raw. */
    static final PeerOp<VdiService> GET = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String name = r.string();
        String key = r.string();
        return Unpooled.wrappedBuffer(service.vdis().getAttr(name, key));
    });
}
