package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.WireReader;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.time.Duration;
import java.util.concurrent.CompletionException;

/** Admin opcodes of snapshots and clones (blocking VdiManager calls on the admin executor). */
final class SnapshotOps {
    /** A snapshot waits for the writes in flight and a cluster round trip or two; a forwarded one gets time for both. */
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(60);

    private SnapshotOps() {
    }

    /**
     * VDI_SNAPSHOT(name, tag) -> VdiInfo of the snapshot. Only the node that has the VDI open can
     * pause its writes, so when another node has it, the request goes on to that node (once).
     */
    static final PeerOp<VdiService> SNAPSHOT = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String name = r.string();
        String tag = r.string();
        VdiManager vdis = service.vdis();
        try {
            return VdiOps.one(vdis, vdis.snapshot(name, tag));
        } catch (KelpieException e) {
            String holder = e.status() == Status.VDI_LOCKED && !req.hasFlag(PeerConstants.FLAG_FORWARDED)
                    ? vdis.lockHolder(vdis.lookup(name).vdiId()) : null;
            if (holder == null || holder.equals(service.self())) {
                throw e;
            }
            return forward(service, holder.substring(holder.indexOf('@') + 1), req);
        }
    });

    /** VDI_CLONE(source NAME@TAG, name, i32 copies or 0 for the source's) -> VdiInfo of the clone. */
    static final PeerOp<VdiService> CLONE = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String source = r.string();
        String name = r.string();
        int copies = r.i32();
        if (copies < 0) {
            throw new KelpieException(Status.INVALID, "copies must be between 1 and 31");
        }
        return VdiOps.one(service.vdis(), service.vdis().cloneOf(source, name, copies));
    });

    /** VDI_ROLLBACK(name, tag) -> VdiInfo of the VDI as it goes on from the snapshot. */
    static final PeerOp<VdiService> ROLLBACK = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String name = r.string();
        String tag = r.string();
        return VdiOps.one(service.vdis(), service.vdis().rollback(name, tag));
    });

    private static ByteBuf forward(VdiService service, String address, PeerRequest req) {
        PeerRequest again = PeerRequest.withPayload(req.opcode(), req.flags() | PeerConstants.FLAG_FORWARDED, 0, 0, 0,
                Unpooled.copiedBuffer(req.payload()));
        PeerResponse resp;
        try {
            resp = service.peers().send(address, again, FORWARD_TIMEOUT).join();
        } catch (CompletionException e) {
            throw new KelpieException(Status.IO_ERROR, "the VDI is open on node " + address
                    + ", which did not take the snapshot: " + KelpieException.messageOf(e.getCause()), e);
        }
        try {
            resp.check();
            return Unpooled.copiedBuffer(resp.payload());
        } finally {
            resp.release();
        }
    }
}
