package io.kelpie.recovery;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.peer.PeerTransport;
import io.kelpie.recovery.ObjectFetcher.Holder;
import io.kelpie.store.ObjectStore;
import io.kelpie.store.ObjectStore.ObjectMeta;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.InodeCodec;
import io.kelpie.common.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.LongToIntFunction;
import java.util.function.Supplier;

/**
 * Makes this node's copy of an object current before it is read or changed here (on demand, as
 * Sheepdog does for an object requested before background recovery got to it), and copies an
 * object for background recovery and repair. Once per object per epoch the local version is
 * compared with what the other holders have (the current replicas, and live nodes that held it in
 * earlier epochs); when behind, the newest verified copy is fetched first. After that the object
 * is <em>confirmed</em> for the epoch and I/O to it costs no round trip.
 *
 * <p>All fetches of one object share one in-flight entry, so background recovery, on-demand
 * recovery, repair and a create or remove never interleave on it: an object confirmed (or
 * replaced by a create) in this epoch is never overwritten by background recovery afterwards.
 * The peer side of every comparison (STAT_OBJ, FETCH_OBJ) is served raw, without recovery, so two
 * nodes recovering the same object never wait on each other.
 */
public final class ObjectRecovery {
    private static final Logger log = LoggerFactory.getLogger(ObjectRecovery.class);
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

    private final ClusterManager cluster;
    private final ObjectStore store;
    private final Executor io;
    private final LongToIntFunction copiesOf;
    private final ObjectFetcher onDemand;
    private final ObjectFetcher background;
    private final ConcurrentHashMap<Long, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Epoch, Ring> rings = new ConcurrentHashMap<>();
    private volatile Confirmed present;

    /** Objects confirmed current in one epoch. */
    /**
     * @param io         the client I/O pool: on-demand fetches (a client waits) install here
     * @param recoveryIo background recovery's own pool, so that it never queues ahead of client I/O
     * @param copiesOf   copies of an object's VDI (by oid), 0 when unknown
     */
    public ObjectRecovery(ClusterManager cluster, ObjectStore store, PeerTransport peers, Executor io, Executor recoveryIo,
                          LongToIntFunction copiesOf) {
        this.cluster = cluster;
        this.store = store;
        this.io = io;
        this.copiesOf = copiesOf;
        this.present = Confirmed.none(cluster.self().id(), copiesOf);
        this.onDemand = new ObjectFetcher(store, peers, io, this::objectSize, cluster::epochNumber);
        this.background = new ObjectFetcher(store, peers, recoveryIo, this::objectSize, cluster::epochNumber);
    }

    /**
     * Completes once the local copy is at least as new as every other holder's (fetching it when
     * behind), or once it is clear no node has the object (a new one). Fails when the object may
     * exist only on nodes that are down or do not answer: serving zeros would lose data silently.
     */
    public CompletableFuture<Void> ensureLocal(long oid) {
        long epoch = cluster.epochNumber();
        Confirmed known = present(epoch);
        if (known.contains(oid)) {
            return DONE;
        }
        List<Epoch> history = cluster.history();
        if (history.size() < 2) {
            return DONE; // one epoch since format: every replica saw every write
        }
        CompletableFuture<Void> running = inFlight.get(oid);
        if (running != null) {
            return running.handle((v, e) -> null).thenCompose(v -> ensureLocal(oid));
        }
        CompletableFuture<Void> f = shared(oid, known, () -> compareAndFetch(oid, history));
        return f != null ? f : ensureLocal(oid);
    }

    /**
     * Before a create or remove replaces the object's content: waits out any fetch of it, then
     * marks it confirmed, so that background recovery cannot install an older copy over it.
     */
    public CompletableFuture<Void> claim(long oid) {
        Confirmed known = present(cluster.epochNumber());
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> running = inFlight.putIfAbsent(oid, mine);
        if (running != null) {
            return running.handle((v, e) -> null).thenCompose(v -> claim(oid));
        }
        known.add(oid); // before the entry goes: whoever claims next sees it confirmed
        inFlight.remove(oid, mine);
        mine.complete(null);
        return DONE;
    }

    /** Background recovery says these are current in {@code epoch}: I/O to them needs no check. */
    public void confirm(long epoch, List<Long> oids) {
        if (cluster.epochNumber() == epoch) {
            present(epoch).addAll(oids);
        }
    }

    /**
     * Background recovery of one object: fetches it unless it was confirmed (or fetched on
     * demand) meanwhile, or the epoch moved on. Completes with whether bytes were copied.
     */
    public CompletableFuture<Boolean> recover(long epoch, RecoveryPlan.Task task) {
        if (cluster.epochNumber() != epoch) {
            return CompletableFuture.completedFuture(false);
        }
        Confirmed known = present(epoch);
        long oid = task.oid();
        if (known.contains(oid)) {
            return CompletableFuture.completedFuture(false);
        }
        boolean[] copied = new boolean[1];
        CompletableFuture<Void> f = shared(oid, known, () -> CompletableFuture.supplyAsync(() -> version(oid), io)
                .thenCompose(local -> {
                    if (local >= task.version()) {
                        return DONE;
                    }
                    return background.fetchFrom(oid, task.sources()).thenAccept(v -> {
                        if (v == 0) {
                            throw new KelpieException(Status.IO_ERROR, "object " + ObjectIds.toHex(oid)
                                    + " is gone from " + task.sources().stream().map(NodeInfo::address).toList());
                        }
                        copied[0] = true;
                    });
                }));
        if (f == null) { // someone else is at it: done when they are (their failure is theirs to report)
            return inFlight.getOrDefault(oid, DONE).handle((v, e) -> false);
        }
        return f.thenApply(v -> copied[0]);
    }

    /**
     * REPAIR_OBJ and the local repair hook: makes this node's copy current from the best other
     * holder (every member is asked, with verification), even when it has the same version but
     * fails its checksums. Completes with whether it copied anything; fails when this node's
     * copy is bad and no other node has a good one.
     */
    public CompletableFuture<Boolean> repair(long oid) {
        boolean[] copied = new boolean[1];
        CompletableFuture<Void> f = shared(oid, null, () -> CompletableFuture.supplyAsync(() -> stat(oid), io)
                .thenCompose(mine -> {
                    List<NodeInfo> others = cluster.members().stream().filter(n -> !isSelf(n)).toList();
                    return onDemand.stat(oid, others, true).thenCompose(holders -> repairFrom(oid, mine, holders, copied));
                }));
        if (f == null) {
            return inFlight.getOrDefault(oid, DONE).handle((v, e) -> null).thenCompose(v -> repair(oid));
        }
        return f.thenApply(v -> copied[0]);
    }

    /**
     * REPAIR_OBJ with a named source (the checker's choice, or the writer's copy of a write this
     * node missed): replaces this node's copy with {@code source}'s when that one verifies, even at
     * the same or a lower version and with good checksums here. The checker uses it for copies whose versions agree but whose content
     * does not, where "take the newer copy" cannot decide.
     */
    public CompletableFuture<Boolean> repair(long oid, String source) {
        NodeInfo from = cluster.members().stream().filter(n -> n.address().equals(source)).findFirst().orElse(null);
        if (from == null || isSelf(from)) {
            return CompletableFuture.failedFuture(new KelpieException(Status.INVALID, source + " is not another member"));
        }
        boolean[] copied = new boolean[1];
        CompletableFuture<Void> f = shared(oid, null, () -> CompletableFuture.supplyAsync(() -> stat(oid), io)
                .thenCompose(mine -> onDemand.stat(oid, List.of(from), true).thenCompose(holders -> {
                    // The caller knows which copy is right, whatever the versions say: the checker's
                    // choice, or the writer's own copy of a write this node missed.
                    List<NodeInfo> usable = ObjectFetcher.bestFirst(holders.stream().filter(Holder::has).toList());
                    if (usable.isEmpty()) {
                        return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR, "object " + ObjectIds.toHex(oid)
                                + " on " + source + " is missing or fails its checksums"));
                    }
                    return onDemand.fetchFrom(oid, usable).thenAccept(v -> {
                        copied[0] = v > 0;
                        log.info("repaired object {} (was version {}) with version {} from {}", ObjectIds.toHex(oid),
                                mine.version(), v, source);
                    });
                })));
        if (f == null) {
            return inFlight.getOrDefault(oid, DONE).handle((v, e) -> null).thenCompose(v -> repair(oid, source));
        }
        return f.thenApply(v -> copied[0]);
    }

    private CompletableFuture<Void> repairFrom(long oid, ObjectMeta mine, List<Holder> holders, boolean[] copied) {
        boolean good = mine.exists() && mine.verified();
        List<NodeInfo> from = ObjectFetcher.bestFirst(holders.stream()
                .filter(h -> h.has() && (!good || h.meta().version() > mine.version())).toList());
        if (from.isEmpty()) {
            if (mine.exists() && !mine.verified()) {
                return CompletableFuture.failedFuture(new KelpieException(Status.CORRUPT, "object " + ObjectIds.toHex(oid)
                        + " fails its checksums here (blocks " + mine.badBlocks() + ") and no other node has a good copy"));
            }
            return DONE;
        }
        return onDemand.fetchFrom(oid, from).thenAccept(v -> {
            if (v > 0) {
                copied[0] = true;
                log.info("repaired object {} (was {}version {}) with version {} from the best of {}", ObjectIds.toHex(oid),
                        mine.exists() ? (good ? "" : "corrupt, ") : "absent, ", mine.version(), v,
                        from.stream().map(NodeInfo::address).toList());
            }
        });
    }

    /**
     * Runs {@code work} as the one fetch of {@code oid}; on success the object is confirmed in
     * {@code known} (null: not confirmed). Null when another fetch of it is under way.
     */
    private CompletableFuture<Void> shared(long oid, Confirmed known, Supplier<CompletableFuture<?>> work) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        if (inFlight.putIfAbsent(oid, mine) != null) {
            return null;
        }
        if (known != null && known.contains(oid)) { // confirmed between the caller's check and here
            inFlight.remove(oid, mine);
            mine.complete(null);
            return mine;
        }
        CompletableFuture<?> f;
        try {
            f = work.get();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((v, err) -> {
            if (err == null && known != null) {
                known.add(oid); // before the entry goes, see claim()
            }
            inFlight.remove(oid, mine);
            if (err != null) {
                mine.completeExceptionally(err);
            } else {
                mine.complete(null);
            }
        });
        return mine;
    }

    /** The on-demand check: compare versions with the other holders and fetch when behind. */
    private CompletableFuture<Void> compareAndFetch(long oid, List<Epoch> history) {
        return CompletableFuture.supplyAsync(() -> version(oid), io).thenCompose(local -> {
            List<NodeInfo> ask = new ArrayList<>();
            List<NodeInfo> gone = new ArrayList<>();
            holders(oid, history, ask, gone);
            return onDemand.stat(oid, ask, false).thenCompose(holders -> {
                long best = holders.stream().filter(Holder::has).mapToLong(h -> h.meta().version()).max().orElse(0);
                if (best > local) {
                    // Only the newest: an older copy would be confirmed while still behind.
                    List<NodeInfo> from = ObjectFetcher.bestFirst(holders.stream()
                            .filter(h -> h.has() && h.meta().version() == best).toList());
                    return onDemand.fetchFrom(oid, from).thenAccept(v -> log.info("recovered object {} (version {}, had {})",
                            ObjectIds.toHex(oid), v, local));
                }
                List<NodeInfo> silent = holders.stream().filter(h -> h.meta() == null).map(Holder::node).toList();
                if (local == 0 && best == 0 && copiesOf.applyAsInt(oid) > 0 && !(gone.isEmpty() && silent.isEmpty())) {
                    List<String> missing = new ArrayList<>();
                    gone.forEach(n -> missing.add(n.address()));
                    silent.forEach(n -> missing.add(n.address()));
                    return CompletableFuture.<Void>failedFuture(new KelpieException(Status.IO_ERROR, "object "
                            + ObjectIds.toHex(oid) + " is unavailable: no live node has it, and " + missing
                            + ", which held it before, are down or do not answer"));
                }
                return DONE;
            });
        });
    }

    /** The current replicas and the earlier epochs' holders (newest epoch first): live ones to ask, the rest gone. */
    private void holders(long oid, List<Epoch> history, List<NodeInfo> ask, List<NodeInfo> gone) {
        Set<String> live = new HashSet<>();
        cluster.members().forEach(n -> live.add(n.id()));
        int copies = copiesOf.applyAsInt(oid);
        int n = copies > 0 ? copies : Inode.MAX_COPIES; // unknown copies: every candidate
        Set<String> seen = new HashSet<>();
        for (NodeInfo r : cluster.ring().replicas(oid, n)) {
            if (!isSelf(r) && seen.add(r.id())) {
                ask.add(r);
            }
        }
        for (int i = history.size() - 2; i >= 0; i--) {
            for (NodeInfo r : ringOf(history.get(i)).replicas(oid, n)) {
                if (!isSelf(r) && seen.add(r.id())) {
                    (live.contains(r.id()) ? ask : gone).add(r);
                }
            }
        }
    }

    private Ring ringOf(Epoch e) {
        if (rings.size() > 4096) {
            rings.clear();
        }
        return rings.computeIfAbsent(e, x -> new Ring(x.members()));
    }

    private Confirmed present(long epoch) {
        Confirmed p = present;
        if (p.epoch() == epoch) {
            return p;
        }
        synchronized (this) {
            if (present.epoch() != epoch) {
                present = present.next(epoch, cluster.history());
            }
            return present;
        }
    }

    private boolean isSelf(NodeInfo n) {
        return n.id().equals(cluster.self().id());
    }

    private long version(long oid) {
        try {
            return store.version(oid);
        } catch (IOException e) {
            throw new KelpieException(Status.IO_ERROR, "I/O error: " + e.getMessage(), e);
        }
    }

    private ObjectMeta stat(long oid) {
        try {
            return store.stat(oid, true);
        } catch (IOException e) {
            throw new KelpieException(Status.IO_ERROR, "I/O error: " + e.getMessage(), e);
        }
    }

    /** Bytes FETCH_OBJ asks for: a whole object (inodes are larger than data objects). */
    int objectSize(long oid) {
        if (ObjectIds.isInode(oid)) {
            return (int) (InodeCodec.TABLE_OFFSET + 4L * Inode.MAX_DATA_OBJECTS);
        }
        ClusterConfig c = cluster.config();
        return (int) (c != null ? c.objectSize() : 1L << Inode.DEFAULT_BLOCK_SIZE_SHIFT);
    }
}
