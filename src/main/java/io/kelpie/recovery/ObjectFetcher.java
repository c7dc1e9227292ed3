package io.kelpie.recovery;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.ObjectMessages;
import io.kelpie.peer.ObjectMessages.ObjectCopy;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.PeerTransport;
import io.kelpie.peer.WireReader;
import io.kelpie.store.ObjectStore;
import io.kelpie.store.ObjectStore.ObjectMeta;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.LongToIntFunction;

/**
 * Compares the copies other nodes hold of an object and copies the best one into the local store:
 * the newest version whose checksums verify. Shared by background recovery, on-demand recovery,
 * repair and check, so that all of them choose a replica by the same rule.
 */
public final class ObjectFetcher {
    private static final Logger log = LoggerFactory.getLogger(ObjectFetcher.class);

    private final ObjectStore store;
    private final PeerTransport peers;
    private final Executor io;
    private final LongToIntFunction objectSize;
    private final java.util.function.LongSupplier epoch;
    /** A source behind this node's epoch is asked again this often, this many times. */
    private static final long BEHIND_RETRY_MILLIS = 50;
    private static final int BEHIND_RETRIES = 100;

    /** A node's copy of an object; {@code meta} null when the node did not answer. */
    public record Holder(NodeInfo node, ObjectMeta meta) {
        public boolean has() {
            return meta != null && meta.exists();
        }
    }

    /**
     * @param io         where store writes run (never the caller's event loop)
     * @param objectSize the full size of an object (data objects and inodes differ) by oid
     */
    public ObjectFetcher(ObjectStore store, PeerTransport peers, Executor io, LongToIntFunction objectSize) {
        this(store, peers, io, objectSize, () -> 0);
    }

    /**
     * @param epoch this node's epoch, sent with every FETCH_OBJ: a source still at an older epoch
     *              refuses it (it may be applying that epoch's writes, which this node never gets)
     *              and is asked again once it has caught up. 0: unchecked (tools, check)
     */
    public ObjectFetcher(ObjectStore store, PeerTransport peers, Executor io, LongToIntFunction objectSize,
                         java.util.function.LongSupplier epoch) {
        this.store = store;
        this.peers = peers;
        this.io = io;
        this.objectSize = objectSize;
        this.epoch = epoch;
    }

    /** What each of {@code nodes} holds of {@code oid} (STAT_OBJ); never fails. */
    public CompletableFuture<List<Holder>> stat(long oid, List<NodeInfo> nodes, boolean verify) {
        List<CompletableFuture<Holder>> all = new ArrayList<>(nodes.size());
        for (NodeInfo n : nodes) {
            PeerRequest req = PeerRequest.of(PeerConstants.STAT_OBJ, verify ? PeerConstants.FLAG_VERIFY : 0, 0, oid, 0, 0);
            all.add(peers.send(n.address(), req).handle((resp, err) -> {
                if (err != null) {
                    return new Holder(n, null);
                }
                try {
                    return new Holder(n, resp.ok() ? ObjectMessages.readStat(new WireReader(resp.payload().duplicate())) : null);
                } finally {
                    resp.release();
                }
            }));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]))
                .thenApply(v -> all.stream().map(CompletableFuture::join).toList());
    }

    /**
     * The holders worth fetching from, best first: copies that exist (and, where verified, passed),
     * newest version first; equal versions keep the given order (callers put nearer nodes first).
     */
    public static List<NodeInfo> bestFirst(List<Holder> holders) {
        return holders.stream()
                .filter(h -> h.has() && h.meta().verified())
                .sorted(Comparator.comparingLong((Holder h) -> h.meta().version()).reversed())
                .map(Holder::node)
                .toList();
    }

    /**
     * Fetches the object from the first of {@code candidates} that has a copy that verifies, and
     * installs it here with that copy's version. Completes with the installed version, or 0 when
     * no candidate had the object; fails only when candidates had it but none could deliver it.
     */
    public CompletableFuture<Long> fetchFrom(long oid, List<NodeInfo> candidates) {
        return fetch(oid, candidates, 0, false, null, 0);
    }

    private CompletableFuture<Long> fetch(long oid, List<NodeInfo> from, int i, boolean seen, Throwable last, int behind) {
        if (i == from.size()) {
            if (!seen) {
                return CompletableFuture.completedFuture(0L);
            }
            return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR, "object "
                    + String.format("%016x", oid) + " could not be fetched from " + from.stream().map(NodeInfo::address).toList()
                    + ": " + KelpieException.messageOf(last), last));
        }
        NodeInfo n = from.get(i);
        int size = objectSize.applyAsInt(oid);
        return peers.send(n.address(), PeerRequest.of(PeerConstants.FETCH_OBJ, PeerConstants.FLAG_PACKED, epoch.getAsLong(), oid, 0, size))
                .handleAsync((resp, err) -> {
                    if (err != null) {
                        log.debug("fetching object {} from {} failed: {}", String.format("%016x", oid), n.address(),
                                KelpieException.messageOf(err));
                        return fetch(oid, from, i + 1, true, err, 0);
                    }
                    try {
                        if (resp.status() == Status.NEW_EPOCH && behind < BEHIND_RETRIES) {
                            // The source has not caught up with our epoch yet: ask it again shortly.
                            return CompletableFuture.runAsync(() -> { },
                                    CompletableFuture.delayedExecutor(BEHIND_RETRY_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS))
                                    .thenCompose(v -> fetch(oid, from, i, seen, last, behind + 1));
                        }
                        resp.check();
                        ObjectCopy copy = ObjectCopy.read(resp.payload().duplicate());
                        if (!copy.exists()) {
                            return fetch(oid, from, i + 1, seen, last, 0);
                        }
                        java.nio.ByteBuffer nb = copy.content().nioBuffer(); // a slice of one buffer: no copy
                        if (copy.packed()) { // the source's verified entries, and its non-zero blocks only
                            store.installPacked(oid, copy.version(), copy.length(), copy.entries(), nb);
                        } else {
                            store.install(oid, copy.version(), nb);
                        }
                        log.debug("fetched object {} (version {}) from {}", String.format("%016x", oid), copy.version(), n.address());
                        return CompletableFuture.completedFuture(copy.version());
                    } catch (Exception e) {
                        log.debug("fetching object {} from {} failed: {}", String.format("%016x", oid), n.address(),
                                KelpieException.messageOf(e));
                        return fetch(oid, from, i + 1, true, e, 0);
                    } finally {
                        resp.release();
                    }
                }, io)
                .thenCompose(java.util.function.Function.identity());
    }
}
