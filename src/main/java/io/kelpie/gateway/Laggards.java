package io.kelpie.gateway;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.common.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * Replicas that missed a change of an object that was acknowledged without them (an error, or a
 * straggler past the window): oid -> node. A recorded replica is neither read from nor written to
 * for that object (its copy is behind; writing into it would make a stale copy look current)
 * until a repair brought it up to date: the node pulls the newest verified copy from the others.
 *
 * <p>Every miss bumps the entry's generation; a repair clears the entry only if no miss came
 * after it was asked for, else it is asked again. A replica that left the cluster is dropped: when
 * it returns, recovery compares versions. The record lives in memory; versions are what survive.
 */
final class Laggards {
    private static final Logger log = LoggerFactory.getLogger(Laggards.class);
    /** After a repair failed (or is not supported yet), the next miss asks again no sooner than this. */
    private static final long RETRY_NANOS = 1_000_000_000L;

    /** One warning per replica and kind of event per window: a failing disk misses writes of every object. */
    private final LogQuota quiet = new LogQuota();
    private final BiFunction<NodeInfo, Long, CompletableFuture<Void>> repair;
    private final ConcurrentHashMap<Long, Map<String, Entry>> byOid = new ConcurrentHashMap<>();

    private static final class Entry {
        final NodeInfo node;
        long generation;
        boolean repairing;
        long lastTry;

        Entry(NodeInfo node) {
            this.node = node;
        }
    }

    /** @param repair asks {@code node} to bring its copy of {@code oid} up to date */
    Laggards(BiFunction<NodeInfo, Long, CompletableFuture<Void>> repair) {
        this.repair = repair;
    }

    boolean isLagging(long oid, NodeInfo n) {
        Map<String, Entry> m = byOid.get(oid);
        return m != null && m.containsKey(n.id());
    }

    /** The recorded replicas of {@code oid} (node ids). */
    Set<String> of(long oid) {
        Map<String, Entry> m = byOid.get(oid);
        if (m == null) {
            return Set.of();
        }
        synchronized (m) {
            return new HashSet<>(m.keySet());
        }
    }

    int size() {
        return byOid.values().stream().mapToInt(Map::size).sum();
    }

    /**
     * Records that {@code n} missed a change of {@code oid}; the repair is asked for once
     * {@code inFlight} (the missed request, still pending for a straggler) has completed, so that
     * the straggling write cannot land on top of the repaired copy.
     */
    void missed(long oid, NodeInfo n, CompletableFuture<?> inFlight, String why) {
        Map<String, Entry> m;
        Entry e;
        boolean fresh;
        while (true) {
            m = byOid.computeIfAbsent(oid, k -> new ConcurrentHashMap<>());
            synchronized (m) {
                if (byOid.get(oid) != m) {
                    continue; // emptied and dropped meanwhile
                }
                e = m.get(n.id());
                fresh = e == null;
                if (fresh) {
                    e = new Entry(n);
                    m.put(n.id(), e);
                }
                e.generation++;
                break;
            }
        }
        if (fresh && quiet.allow("missed:" + n.id())) {
            log.warn("replica {} missed a write of object {} ({}); not used for it until repaired"
                    + " (more objects of this replica within {} s are logged at debug level)", n.address(),
                    ObjectIds.toHex(oid), why, LogQuota.WINDOW_SECONDS);
        } else if (fresh) {
            log.debug("replica {} missed a write of object {} ({})", n.address(), ObjectIds.toHex(oid), why);
        }
        Entry entry = e;
        Map<String, Entry> map = m;
        inFlight.handle((v, err) -> null).thenRun(() -> maybeRepair(oid, map, entry, false));
    }

    /** Asks again for the repair of every recorded replica of {@code oid} not being repaired (a read found it). */
    void retry(long oid) {
        Map<String, Entry> m = byOid.get(oid);
        if (m != null) {
            for (Entry e : m.values()) {
                maybeRepair(oid, m, e, false);
            }
        }
    }

    /** Forgets the replicas that are not members any more. */
    void retainMembers(Collection<NodeInfo> members) {
        Set<String> live = new HashSet<>();
        members.forEach(n -> live.add(n.id()));
        byOid.forEach((oid, m) -> {
            synchronized (m) {
                m.values().removeIf(e -> {
                    if (!live.contains(e.node.id())) {
                        if (quiet.allow("left:" + e.node.id())) {
                            log.info("replica {} left the cluster; its objects are no longer recorded as lagging",
                                    e.node.address());
                        }
                        return true;
                    }
                    return false;
                });
                if (m.isEmpty()) {
                    byOid.remove(oid, m);
                }
            }
        });
    }

    private void maybeRepair(long oid, Map<String, Entry> m, Entry e, boolean again) {
        long asked;
        synchronized (m) {
            long now = System.nanoTime();
            if (m.get(e.node.id()) != e || e.repairing || (!again && e.lastTry != 0 && now - e.lastTry < RETRY_NANOS)) {
                return;
            }
            e.repairing = true;
            e.lastTry = now;
            asked = e.generation;
        }
        CompletableFuture<Void> f;
        try {
            f = repair.apply(e.node, oid);
        } catch (RuntimeException ex) {
            f = CompletableFuture.failedFuture(ex);
        }
        f.whenComplete((v, err) -> {
            boolean redo = false;
            synchronized (m) {
                e.repairing = false;
                if (err == null) {
                    if (e.generation == asked) {
                        m.remove(e.node.id(), e);
                        if (m.isEmpty()) {
                            byOid.remove(oid, m);
                        }
                    } else {
                        redo = true; // it missed more while being repaired
                    }
                }
            }
            if (err == null && !redo) {
                log.debug("replica {} of object {} repaired", e.node.address(), ObjectIds.toHex(oid));
            } else if (redo) {
                maybeRepair(oid, m, e, true);
            } else if (KelpieException.statusOf(err) == Status.UNSUPPORTED) {
                log.debug("replica {} cannot repair object {} yet: {}", e.node.address(), ObjectIds.toHex(oid),
                        KelpieException.messageOf(err));
            } else if (quiet.allow("repair:" + e.node.id())) {
                log.warn("repair of object {} on {} failed: {} (more failures on it within {} s at debug level)",
                        ObjectIds.toHex(oid), e.node.address(), KelpieException.messageOf(err), LogQuota.WINDOW_SECONDS);
            } else {
                log.debug("repair of object {} on {} failed: {}", ObjectIds.toHex(oid), e.node.address(),
                        KelpieException.messageOf(err));
            }
        });
    }
}
