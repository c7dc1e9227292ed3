package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.ObjectMessages;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.WireWriter;
import io.kelpie.store.ObjectStore;
import io.kelpie.store.ObjectStore.ObjectMeta;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

import java.io.IOException;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The object metadata opcodes: raw views of this node's local copy for recovery, repair and
 * check. Never epoch-checked and never recovered first: they are how nodes compare replicas.
 */
final class ObjectMetaOps {
    private ObjectMetaOps() {
    }

    /** STAT_OBJ(oid; FLAG_VERIFY) -> ObjectMessages stat. */
    static final PeerOp<ObjectService> STAT = (local, req, ex) -> Blocking.on(ex, () -> {
        ObjectMeta m = local.store().stat(req.oid(), req.hasFlag(PeerConstants.FLAG_VERIFY));
        WireWriter w = new WireWriter(local.alloc().buffer(24 + 4 * m.badBlocks().size()));
        ObjectMessages.writeStat(w, m);
        return w.buf();
    });

    /**
     * FETCH_OBJ(oid, length) -> u8 exists, u64 version, {@code length} bytes of content. A copy
     * whose checksums fail is refused with CORRUPT: recovery must take another replica. A fetch
     * carrying a newer epoch than this node's is refused with NEW_EPOCH (the fetcher retries).
     */
    static final PeerOp<ObjectService> FETCH = (local, req, ex) -> Blocking.on(ex, () -> {
        long theirs = req.epoch();
        long mine = local.epoch();
        if (theirs != 0 && mine < theirs) {
            // This node may still be applying writes of the older epoch, which the fetching node
            // (a new replica) never gets: it must not copy the object before they are in.
            throw new KelpieException(Status.NEW_EPOCH, "FETCH_OBJ of epoch " + theirs + " reached a node at epoch " + mine);
        }
        if (req.length() < 0 || req.length() > PeerConstants.MAX_PAYLOAD - 9) {
            throw new KelpieException(Status.TOO_BIG, "fetch of " + Integer.toUnsignedString(req.length())
                    + " bytes exceeds the limit of " + PeerConstants.MAX_PAYLOAD);
        }
        ObjectStore store = local.store();
        int length = req.length();
        if (req.hasFlag(PeerConstants.FLAG_PACKED)) {
            return packed(store, local.alloc(), req.oid(), length);
        }
        ByteBuf out = local.alloc().directBuffer(9 + length, 9 + length);
        try {
            // The version is read before the bytes: a write racing the fetch leaves the copy at
            // least as new as its version says, and the next write (or recovery) corrects it.
            long version = store.version(req.oid());
            ByteBuffer nio = out.nioBuffer(9, length);
            boolean exists = store.read(req.oid(), 0, nio);
            out.writeBoolean(exists).writeLong(exists ? version : 0).writerIndex(9 + length);
            return out;
        } catch (Exception e) {
            out.release();
            throw e;
        }
    });

    /**
     * A packed FETCH_OBJ answer: the entries this node verified the bytes against, then slices of
     * the read buffer for each run of non-zero blocks (written out with one gathering write, no
     * copy). Holes cost 4 bytes on the wire, and the receiver computes no checksum.
     */
    private static ByteBuf packed(ObjectStore store, ByteBufAllocator alloc, long oid, int length) throws IOException {
        int blocks = (int) ((length + (long) ObjectStore.BLOCK_SIZE - 1) / ObjectStore.BLOCK_SIZE);
        int[] entries = new int[blocks];
        ByteBuf data = alloc.directBuffer(length, length);
        try {
            long version = store.version(oid); // before the bytes, as above
            boolean exists = store.readWithEntries(oid, data.nioBuffer(0, length), entries);
            ByteBuf head = alloc.buffer(21 + 4 * blocks);
            if (!exists) {
                return head.writeByte(0).writeLong(0);
            }
            ObjectMessages.writePackedHeader(head, version, length, entries);
            CompositeByteBuf out = alloc.compositeDirectBuffer(2 + blocks / 2 + 1);
            out.addComponent(true, head);
            for (int b = 0; b < blocks; ) {
                if (entries[b] == 0) {
                    b++;
                    continue;
                }
                int from = b;
                while (b < blocks && entries[b] != 0) {
                    b++;
                }
                int start = from * ObjectStore.BLOCK_SIZE;
                int end = (int) Math.min(length, (long) b * ObjectStore.BLOCK_SIZE);
                out.addComponent(true, data.retainedSlice(start, end - start));
            }
            return out;
        } finally {
            data.release();
        }
    }

    /** LIST_VERSIONS -> u32 n, n x (u64 oid, u64 version). */
    static final PeerOp<ObjectService> LIST_VERSIONS = (local, req, ex) -> Blocking.on(ex, () -> {
        ObjectStore store = local.store();
        List<Long> oids = store.list();
        if (4L + 16L * oids.size() > PeerConstants.MAX_PAYLOAD) {
            throw new KelpieException(Status.TOO_BIG, oids.size() + " objects do not fit one response");
        }
        ByteBuf out = local.alloc().buffer(4 + 16 * oids.size());
        int n = 0;
        out.writeInt(0);
        for (long oid : oids) {
            long v = store.version(oid);
            if (v != 0) { // removed since it was listed
                out.writeLong(oid).writeLong(v);
                n++;
            }
        }
        return out.setInt(0, n);
    });
}
