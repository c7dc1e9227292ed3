package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.store.ObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The peer (object) opcodes, served against the receiving node's local store. They carry the
 * sender's epoch; reads and changes of objects are refused when the epochs differ ({@link #epochChecked}).
 */
final class ObjectOps {
    private ObjectOps() {
    }

    /** READ_OBJ(oid, offset, length): the bytes, zeros where never written. */
    static final PeerOp<ObjectService> READ = (local, req, ex) -> Blocking.on(ex, () -> {
        if (req.length() < 0 || req.length() > PeerConstants.MAX_PAYLOAD) {
            throw new KelpieException(Status.TOO_BIG, "read of " + Integer.toUnsignedString(req.length())
                    + " bytes exceeds the limit of " + PeerConstants.MAX_PAYLOAD);
        }
        checkOffset(req);
        return LocalGateway.readNow(local.store(), local.alloc(), req.oid(), req.offset(), req.length());
    });

    /** WRITE_OBJ(oid, offset, data; SYNC): writes into the object, creating it if absent. */
    static final PeerOp<ObjectService> WRITE = (local, req, ex) -> {
        checkOffset(req);
        boolean sync = req.hasFlag(PeerConstants.FLAG_SYNC);
        try {
            if (LocalGateway.tryWriteNow(local.store(), req.oid(), req.offset(), req.payload(), sync)) {
                return CompletableFuture.completedFuture(Unpooled.EMPTY_BUFFER); // on the event loop: no hop
            }
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(LocalGateway.failure(e));
        }
        return Blocking.noResult(ex, () -> LocalGateway.writeNow(local.store(), req.oid(), req.offset(), req.payload(), sync, false));
    };

    /**
     * CREATE_AND_WRITE_OBJ(oid, offset, data; SYNC): replaces any old content of the object. The
     * new object starts at version {@code epoch << 32} (the request's epoch), above any copy
     * written in an earlier epoch, so a re-created object always outranks a stale orphan.
     */
    static final PeerOp<ObjectService> CREATE_AND_WRITE = (local, req, ex) -> Blocking.noResult(ex, () -> {
        checkOffset(req);
        LocalGateway.createNow(local.store(), req.oid(), createVersion(req.epoch()), req.offset(), req.payload(),
                req.hasFlag(PeerConstants.FLAG_SYNC));
    });

    /** The base version of an object created in {@code epoch}: above every write count of an earlier epoch. */
    static long createVersion(long epoch) {
        return epoch << 32;
    }

    /** ZERO_OBJ(oid, offset, length; SYNC). */
    static final PeerOp<ObjectService> ZERO = (local, req, ex) -> Blocking.noResult(ex, () -> {
        checkOffset(req);
        ObjectStore store = local.store();
        store.zero(req.oid(), req.offset(), Integer.toUnsignedLong(req.length()));
        if (req.hasFlag(PeerConstants.FLAG_SYNC)) {
            store.sync(req.oid());
        }
    });

    /** REMOVE_OBJ(oid): one byte, 1 if the object existed. */
    static final PeerOp<ObjectService> REMOVE = (local, req, ex) -> Blocking.on(ex, () ->
            Unpooled.wrappedBuffer(new byte[] {(byte) (local.store().remove(req.oid()) ? 1 : 0)}));

    /** FLUSH: every write so far durable. */
    static final PeerOp<ObjectService> FLUSH = (local, req, ex) -> Blocking.noResult(ex, () -> local.store().flush());

    /** LIST_OBJ: u32 count, then that many u64 oids. */
    static final PeerOp<ObjectService> LIST = (local, req, ex) -> Blocking.on(ex, () -> {
        List<Long> oids = local.store().list();
        if (4L + 8L * oids.size() > PeerConstants.MAX_PAYLOAD) {
            throw new KelpieException(Status.TOO_BIG, oids.size() + " objects do not fit one response");
        }
        ByteBuf out = local.alloc().buffer(4 + 8 * oids.size());
        out.writeInt(oids.size());
        oids.forEach(out::writeLong);
        return out;
    });

    /** EXISTS_OBJ(oid): one byte, 1 if the object exists. */
    static final PeerOp<ObjectService> EXISTS = (local, req, ex) -> Blocking.on(ex, () ->
            Unpooled.wrappedBuffer(new byte[] {(byte) (local.store().exists(req.oid()) ? 1 : 0)}));

    /**
     * Refuses an object request placed under another epoch than this node's: the sender retries
     * once the older side has caught up. A request of epoch 0 (a tool) is not checked. A node at
     * epoch 0 is one still joining: it refuses placed requests until it has adopted the cluster's
     * state, since a write it took before then would create a partial object that recovery
     * could not tell from a whole one.
     */
    static PeerOp<ObjectService> epochChecked(PeerOp<ObjectService> op) {
        return (local, req, ex) -> {
            long mine = local.epoch();
            long theirs = req.epoch();
            if (theirs != 0 && mine != theirs) {
                Status st = theirs < mine ? Status.OLD_EPOCH : Status.NEW_EPOCH;
                return java.util.concurrent.CompletableFuture.failedFuture(new KelpieException(st,
                        PeerConstants.opcodeName(req.opcode()) + " of epoch " + theirs + " reached a node at epoch " + mine));
            }
            return op.serve(local, req, ex);
        };
    }

    /**
     * An object this node should hold but lacks, or holds at an older version than another node
     * (it became a replica in a later epoch, or missed writes while away), is first made current
     * from the other holders, so that reads and partial writes see its latest content.
     */
    static PeerOp<ObjectService> recovered(PeerOp<ObjectService> op) {
        return (local, req, ex) -> local.ensureLocal(req.oid()).thenCompose(v -> op.serve(local, req, ex));
    }

    /**
     * A create or remove replaces whatever the object held: it need not be recovered first, but a
     * background fetch of it must not land afterwards (it would bring the old content back).
     */
    static PeerOp<ObjectService> claimed(PeerOp<ObjectService> op) {
        return (local, req, ex) -> local.claim(req.oid()).thenCompose(v -> op.serve(local, req, ex));
    }

    private static void checkOffset(PeerRequest req) {
        if (req.offset() < 0) {
            throw new KelpieException(Status.INVALID, "negative object offset " + req.offset());
        }
    }
}
