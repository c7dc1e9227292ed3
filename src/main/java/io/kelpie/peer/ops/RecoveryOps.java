package io.kelpie.peer.ops;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.recovery.RecoveryStatus;
import io.kelpie.recovery.RecoveryStatus.OfNode;
import io.netty.buffer.Unpooled;

import java.util.List;

/** The recovery opcodes: progress (admin) and repair of one object (peer). */
final class RecoveryOps {
    private RecoveryOps() {
    }

    /**
     * NODE_RECOVERY(; FLAG_LOCAL) -> i32 n, n x (id, address, answered, RecoveryStatus): every
     * member's background recovery, gathered like NODE_INFO (FLAG_LOCAL: the receiver's only).
     */
    static final PeerOp<RecoveryService> NODE_RECOVERY = (recovery, req, ex) -> Blocking.on(ex, () -> {
        List<OfNode> all = recovery.statusOfMembers(req.hasFlag(PeerConstants.FLAG_LOCAL));
        WireWriter w = new WireWriter(Unpooled.buffer());
        RecoveryStatus.writeAll(w, all);
        return w.buf();
    });

    /**
     * REPAIR_OBJ(oid) -> u8 repaired: the receiver makes its copy current from the best other
     * holder, even when its version is the newest but its checksums fail. Served raw (no epoch
     * check): the checker asks every holder, whatever epoch it is at. With FLAG_FORCE the payload
     * names the node to copy from (string HOST:PORT).
     */
    static final PeerOp<RecoveryService> REPAIR = (recovery, req, ex) -> {
        // FLAG_FORCE with a source address (the checker's choice): take that copy even at the same version.
        var repaired = req.hasFlag(PeerConstants.FLAG_FORCE) && req.payload().isReadable()
                ? recovery.repair(req.oid(), new WireReader(req.payload().duplicate()).string())
                : recovery.repair(req.oid());
        return repaired.thenApply(copied -> Unpooled.wrappedBuffer(new byte[] {(byte) (copied ? 1 : 0)}));
    };
}
