package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.store.ObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.List;

/**
 * The peer (object) opcodes, served against the receiving node's local store. They carry the
 * sender's epoch; reads and changes of objects are refused when the epochs differ ({@link #epochChecked}).
 */
final class ObjectOps {
    private ObjectOps() {
    }

    /** READ_OBJ(oid, offset, length): the bytes, zeros where never written. */
    static final PeerOp READ = (node, req, ex) -> Blocking.on(ex, () -> {
        if (req.length() < 0 || req.length() > PeerConstants.MAX_PAYLOAD) {
            throw new KelpieException(Status.TOO_BIG, "read of " + Integer.toUnsignedString(req.length())
                    + " bytes exceeds the limit of " + PeerConstants.MAX_PAYLOAD);
        }
        checkOffset(req);
        return LocalGateway.readNow(source(node, req), node.alloc(), req.oid(), req.offset(), req.length());
    });

    /** WRITE_OBJ(oid, offset, data; SYNC): writes into the object, creating it if absent. */
    static final PeerOp WRITE = (node, req, ex) -> Blocking.noResult(ex, () -> {
        checkOffset(req);
        LocalGateway.writeNow(node.store(), req.oid(), req.offset(), req.payload(), req.hasFlag(PeerConstants.FLAG_SYNC), false);
    });

    /** CREATE_AND_WRITE_OBJ(oid, offset, data; SYNC): replaces any old content of the object. */
    static final PeerOp CREATE_AND_WRITE = (node, req, ex) -> Blocking.noResult(ex, () -> {
        checkOffset(req);
        LocalGateway.writeNow(node.store(), req.oid(), req.offset(), req.payload(), req.hasFlag(PeerConstants.FLAG_SYNC), true);
    });

    /** ZERO_OBJ(oid, offset, length; SYNC). */
    static final PeerOp ZERO = (node, req, ex) -> Blocking.noResult(ex, () -> {
        checkOffset(req);
        ObjectStore store = node.store();
        store.zero(req.oid(), req.offset(), Integer.toUnsignedLong(req.length()));
        if (req.hasFlag(PeerConstants.FLAG_SYNC)) {
            store.sync(req.oid());
        }
    });

    /** REMOVE_OBJ(oid): one byte, 1 if the object existed. */
    static final PeerOp REMOVE = (node, req, ex) -> Blocking.on(ex, () ->
            Unpooled.wrappedBuffer(new byte[] {(byte) (node.store().remove(req.oid()) ? 1 : 0)}));

    /** FLUSH: every write so far durable. */
    static final PeerOp FLUSH = (node, req, ex) -> Blocking.noResult(ex, () -> node.store().flush());

    /** LIST_OBJ: u32 count, then that many u64 oids. */
    static final PeerOp LIST = (node, req, ex) -> Blocking.on(ex, () -> {
        List<Long> oids = node.store().list();
        if (4L + 8L * oids.size() > PeerConstants.MAX_PAYLOAD) {
            throw new KelpieException(Status.TOO_BIG, oids.size() + " objects do not fit one response");
        }
        ByteBuf out = node.alloc().buffer(4 + 8 * oids.size());
        out.writeInt(oids.size());
        oids.forEach(out::writeLong);
        return out;
    });

    /** EXISTS_OBJ(oid): one byte, 1 if the object exists. */
    static final PeerOp EXISTS = (node, req, ex) -> Blocking.on(ex, () ->
            Unpooled.wrappedBuffer(new byte[] {(byte) (source(node, req).exists(req.oid()) ? 1 : 0)}));

    /** The live store, or with FLAG_STALE_OK the stale store when only that one has the object. */
    private static ObjectStore source(io.kelpie.node.Node node, PeerRequest req) throws java.io.IOException {
        ObjectStore live = node.store();
        if (req.hasFlag(PeerConstants.FLAG_STALE_OK) && node.staleObjects() != null && !live.exists(req.oid())
                && node.staleObjects().store().exists(req.oid())) {
            return node.staleObjects().store();
        }
        return live;
    }

    /**
     * Refuses an object request placed under another epoch than this node's: the sender retries
     * once the older side has caught up. Epoch 0 on either side (a tool, an unformatted node) is
     * not checked.
     */
    static PeerOp epochChecked(PeerOp op) {
        return (node, req, ex) -> {
            long mine = node.epoch();
            long theirs = req.epoch();
            if (mine != 0 && theirs != 0 && mine != theirs) {
                Status st = theirs < mine ? Status.OLD_EPOCH : Status.NEW_EPOCH;
                return java.util.concurrent.CompletableFuture.failedFuture(new KelpieException(st,
                        PeerConstants.opcodeName(req.opcode()) + " of epoch " + theirs + " reached a node at epoch " + mine));
            }
            return op.serve(node, req, ex);
        };
    }

    /**
     * An object this node should hold but does not (it became a replica in a later epoch) is first
     * fetched from an earlier holder, so that reads and partial writes see its whole content.
     */
    static PeerOp recovered(PeerOp op) {
        return (node, req, ex) -> {
            var recovery = node.recovery();
            if (recovery == null) {
                return op.serve(node, req, ex);
            }
            return recovery.ensureLocal(req.oid()).thenCompose(v -> op.serve(node, req, ex));
        };
    }

    private static void checkOffset(PeerRequest req) {
        if (req.offset() < 0) {
            throw new KelpieException(Status.INVALID, "negative object offset " + req.offset());
        }
    }
}
