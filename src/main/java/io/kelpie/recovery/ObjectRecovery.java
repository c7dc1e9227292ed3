package io.kelpie.recovery;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.gateway.PeerPool;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.store.ObjectStore;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.InodeCodec;
import io.kelpie.vdi.ObjectIds;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * On-demand recovery, as Sheepdog does for an object requested before background recovery got to
 * it: when this node is asked to read or change an object it does not hold, and the cluster has
 * had earlier epochs, the object is first copied from a node that held it in an earlier epoch
 * (newest epoch first, nodes in ring order). Without it, a node that became a replica through a
 * membership change would serve zeros, or a partial object after a partial write.
 *
 * <p>Background recovery (moving every object to its new replicas without waiting for I/O) is the
 * next step; it can reuse {@link #ensureLocal}.
 */
public final class ObjectRecovery {
    private static final Logger log = LoggerFactory.getLogger(ObjectRecovery.class);
    /** Chunks of a fetched object that are all zeros are not written, keeping the copy sparse. */
    private static final int CHUNK = 64 << 10;

    private final ClusterManager cluster;
    private final ObjectStore store;
    private final PeerPool peers;
    private final Executor io;
    private final java.util.function.Supplier<ObjectStore> stale;
    private final java.util.function.LongToIntFunction copiesOf;
    private final ConcurrentHashMap<Long, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
    /** Objects known to be here (or new) in the current epoch: later I/O to them skips the check. */
    private volatile Present present = new Present(-1, ConcurrentHashMap.newKeySet());

    private record Present(long epoch, Set<Long> oids) {
    }

    /**
     * @param stale    this node's stale store (objects it held in earlier epochs), or null for none
     * @param copiesOf copies of an object's VDI (by oid), 0 when unknown
     */
    public ObjectRecovery(ClusterManager cluster, ObjectStore store, PeerPool peers, Executor io,
                          java.util.function.Supplier<ObjectStore> stale, java.util.function.LongToIntFunction copiesOf) {
        this.copiesOf = copiesOf;
        this.cluster = cluster;
        this.store = store;
        this.peers = peers;
        this.io = io;
        this.stale = stale;
    }

    /**
     * Completes once the object is in the local store, or once no earlier holder has it either (a
     * new object). Concurrent calls for one object share one fetch.
     */
    public CompletableFuture<Void> ensureLocal(long oid) {
        long epoch = cluster.epochNumber();
        Present known = present;
        if (known.epoch() != epoch) {
            known = new Present(epoch, ConcurrentHashMap.newKeySet());
            present = known;
        }
        if (known.oids().contains(oid)) {
            return CompletableFuture.completedFuture(null);
        }
        List<Epoch> history = cluster.history();
        if (history.size() < 2) {
            return CompletableFuture.completedFuture(null);
        }
        Set<Long> confirmed = known.oids();
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = inFlight.putIfAbsent(oid, mine);
        if (running != null) {
            return running;
        }
        CompletableFuture.runAsync(() -> { }, io).thenCompose(v -> {
            try {
                if (store.exists(oid)) {
                    return CompletableFuture.<Void>completedFuture(null);
                }
            } catch (IOException e) {
                return CompletableFuture.<Void>failedFuture(new KelpieException(Status.IO_ERROR, "I/O error: " + e.getMessage(), e));
            }
            Holders h = candidates(oid, history);
            return fetch(oid, h.live(), 0, h.gone());
        }).whenComplete((v, err) -> {
            inFlight.remove(oid, mine);
            if (err == null) {
                confirmed.add(oid);
            }
            if (err != null) {
                mine.completeExceptionally(err);
            } else {
                mine.complete(null);
            }
        });
        return mine;
    }

    /** Where the object lived before: live holders (most recent epoch first) and holders now gone. */
    private record Holders(List<NodeInfo> live, List<NodeInfo> gone) {
    }

    private Holders candidates(long oid, List<Epoch> history) {
        Set<String> live = new java.util.HashSet<>();
        cluster.members().forEach(n -> live.add(n.id()));
        String self = cluster.self().id();
        int copies = copiesOf.applyAsInt(oid);
        Set<NodeInfo> up = new LinkedHashSet<>();
        Set<String> down = new LinkedHashSet<>();
        List<NodeInfo> gone = new ArrayList<>();
        for (int i = history.size() - 2; i >= 0; i--) {
            // With the VDI's copies, exactly the nodes that held it; unknown copies: every candidate.
            for (NodeInfo n : new Ring(history.get(i).members()).replicas(oid, copies > 0 ? copies : Inode.MAX_COPIES)) {
                if (n.id().equals(self)) {
                    continue;
                }
                if (live.contains(n.id())) {
                    up.add(n);
                } else if (down.add(n.id())) {
                    gone.add(n);
                }
            }
        }
        return new Holders(new ArrayList<>(up), gone);
    }

    private CompletableFuture<Void> fetch(long oid, List<NodeInfo> from, int i, List<NodeInfo> gone) {
        if (i == from.size()) {
            return fromOwnStale(oid, gone); // no live node has it
        }
        NodeInfo n = from.get(i);
        return peers.send(n.address(), PeerRequest.of(PeerConstants.EXISTS_OBJ, PeerConstants.FLAG_STALE_OK, 0, oid, 0, 0)).thenCompose(resp -> {
            boolean has;
            try {
                has = resp.ok() && resp.payload().isReadable() && resp.payload().getByte(resp.payload().readerIndex()) == 1;
            } finally {
                resp.release();
            }
            if (!has) {
                return fetch(oid, from, i + 1, gone);
            }
            int size = objectSize(oid);
            return peers.send(n.address(), PeerRequest.of(PeerConstants.READ_OBJ, PeerConstants.FLAG_STALE_OK, 0, oid, 0, size))
                    .thenComposeAsync(data -> {
                        try {
                            data.check();
                            store(oid, data.payload());
                            log.info("recovered object {} from {}", ObjectIds.toHex(oid), n.address());
                            return CompletableFuture.<Void>completedFuture(null);
                        } catch (IOException e) {
                            return CompletableFuture.<Void>failedFuture(
                                    new KelpieException(Status.IO_ERROR, "I/O error: " + e.getMessage(), e));
                        } finally {
                            data.release();
                        }
                    }, io);
        }).exceptionallyCompose(err -> {
            log.warn("recovering object {} from {} failed: {}", ObjectIds.toHex(oid), n.address(), KelpieException.messageOf(err));
            return fetch(oid, from, i + 1, gone);
        });
    }

    /** The last resort: this node's own stale copy, from when it held the object before. */
    private CompletableFuture<Void> fromOwnStale(long oid, List<NodeInfo> gone) {
        ObjectStore staleStore = stale.get();
        try {
            if (staleStore == null || !staleStore.exists(oid)) {
                if (!gone.isEmpty() && copiesOf.applyAsInt(oid) > 0) {
                    // It may exist only on nodes that are down: serving zeros would be silent data loss.
                    return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR, "object "
                            + ObjectIds.toHex(oid) + " is unavailable: no live node has it, and "
                            + gone.stream().map(NodeInfo::address).toList() + ", which held it before, are down"));
                }
                return CompletableFuture.completedFuture(null); // nobody has it: a new object
            }
            int size = objectSize(oid);
            ByteBuf buf = Unpooled.buffer(size, size);
            try {
                staleStore.read(oid, 0, buf.nioBuffer(0, size));
                buf.writerIndex(size);
                store(oid, buf);
            } finally {
                buf.release();
            }
            log.info("recovered object {} from this node's stale copy", ObjectIds.toHex(oid));
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR, "I/O error: " + e.getMessage(), e));
        }
    }

    private void store(long oid, ByteBuf data) throws IOException {
        int n = data.readableBytes();
        boolean wrote = false;
        for (int off = 0; off < n; off += CHUNK) {
            int len = Math.min(CHUNK, n - off);
            ByteBuffer chunk = data.nioBuffer(data.readerIndex() + off, len);
            if (!allZero(chunk)) {
                store.write(oid, off, chunk);
                wrote = true;
            }
        }
        if (!wrote) {
            store.write(oid, 0, ByteBuffer.allocate(1)); // all zeros: the object must still exist
        }
        store.sync(oid);
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    private int objectSize(long oid) {
        if (ObjectIds.isInode(oid)) {
            return (int) (InodeCodec.TABLE_OFFSET + 4L * Inode.MAX_DATA_OBJECTS);
        }
        ClusterConfig c = cluster.config();
        return (int) (c != null ? c.objectSize() : 1L << Inode.DEFAULT_BLOCK_SIZE_SHIFT);
    }
}
