package io.kelpie.recovery;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import io.kelpie.common.KelpieException;
import io.kelpie.recovery.MemberQueries.Versions;
import io.kelpie.recovery.RecoveryPlan.Task;
import io.kelpie.recovery.RecoveryStatus.OfNode;
import io.kelpie.store.ObjectStore;
import io.kelpie.common.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.LongToIntFunction;

/**
 * Background recovery, after Sheepdog's recovery work: on every new epoch this node lists what
 * every live member holds, fetches the objects it should hold and lacks (or holds at an older
 * version), and once every member reports the epoch done, deletes the copies it no longer owns.
 *
 * <p>It runs on its own thread. {@link #epochChanged} (called on the ordered cluster thread) only
 * hands the epoch over; a newer epoch cancels the running pass between objects, and the next pass
 * skips what is already current by comparing versions, so nothing is fetched twice. Fetches are
 * bounded ({@link #PARALLEL} at a time), throttled by {@code --recovery-rate}, and install on
 * recovery's own pool; objects a client asks for meanwhile are recovered at once by
 * {@link ObjectRecovery#ensureLocal}, ahead of this queue.
 */
public final class RecoveryWorker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RecoveryWorker.class);
    /** Fetches in flight: a fetch spends most of its time on the wire and in fsync, not on a CPU. */
    public static final int PARALLEL = 8;
    private static final int MAX_ATTEMPTS = 6;
    private static final long POLL_MILLIS = 300;

    private final ClusterManager cluster;
    private final ObjectStore store;
    private final ObjectRecovery recovery;
    private final MemberQueries members;
    private final LongToIntFunction copiesOf;
    private final RecoveryThrottle throttle;
    private final RecoveryProgress progress = new RecoveryProgress();
    private final Object signal = new Object();
    private final Thread thread;
    private long generation; // guarded by signal: bumped by every epochChanged
    private long wantedEpoch;
    private volatile boolean closed;

    public RecoveryWorker(ClusterManager cluster, ObjectStore store, ObjectRecovery recovery, MemberQueries members,
                          LongToIntFunction copiesOf, RecoveryThrottle throttle) {
        this.cluster = cluster;
        this.store = store;
        this.recovery = recovery;
        this.members = members;
        this.copiesOf = copiesOf;
        this.throttle = throttle;
        this.thread = new Thread(this::loop, "kelpie-recovery");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** A new epoch began: hand it over and return at once (runs on the ordered cluster thread). */
    public void epochChanged(long epoch) {
        progress.pending(epoch);
        synchronized (signal) {
            generation++;
            wantedEpoch = epoch;
            signal.notifyAll();
        }
    }

    public RecoveryStatus status() {
        return progress.snapshot();
    }

    /** Every member's status, this node's included (NODE_RECOVERY). */
    public List<OfNode> statusOfMembers(boolean localOnly) {
        NodeInfo self = cluster.self();
        return members.statuses(localOnly ? List.of(self) : cluster.members(), self, this::status);
    }

    private void loop() {
        long seen = 0;
        while (!closed) {
            long gen;
            long epoch;
            synchronized (signal) {
                while (generation == seen && !closed) {
                    try {
                        signal.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                gen = generation;
                epoch = wantedEpoch;
            }
            seen = gen;
            try {
                runPass(epoch, gen);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | java.io.IOException e) {
                log.error("epoch {}: recovery failed, retrying: {}", epoch, KelpieException.messageOf(e));
                if (!pause(gen, 2000)) {
                    seen = gen - 1; // same epoch again
                }
            }
        }
    }

    private void runPass(long epoch, long gen) throws InterruptedException, java.io.IOException {
        Placement p = cluster.placement();
        if (cluster.config() == null) {
            progress.start(epoch);
            progress.finish(0);
            return;
        }
        if (p.epoch() != epoch) {
            return; // a newer epoch is published, and its hand-over follows
        }
        progress.start(epoch);
        NodeInfo self = cluster.self();
        long failed = 0;
        boolean stale = false;
        for (int attempt = 1; ; attempt++) {
            Versions theirs = members.versions(p.ring().nodes(), self);
            Map<Long, Long> local = members.local();
            RecoveryPlan plan = RecoveryPlan.compute(self, p.ring(), local, theirs.listings(), copiesOf);
            recovery.confirm(epoch, plan.current());
            long bytes = 0;
            for (Task t : plan.tasks()) {
                bytes += recovery.objectSize(t.oid());
            }
            progress.planned(plan.tasks().size(), bytes);
            progress.stale(plan.notOwned().size());
            stale = !plan.notOwned().isEmpty();
            if (attempt == 1 && !plan.tasks().isEmpty()) {
                log.info("epoch {}: recovering {} object(s), {} MiB{}", epoch, plan.tasks().size(), bytes >> 20,
                        theirs.missing().isEmpty() ? "" : "; no answer from " + theirs.missing().stream().map(NodeInfo::address).toList());
            }
            failed = execute(epoch, gen, plan);
            if (superseded(gen)) {
                return;
            }
            if (failed == 0 && theirs.missing().isEmpty()) {
                break;
            }
            if (attempt == MAX_ATTEMPTS) {
                log.warn("epoch {}: {} object(s) unavailable: no live node could deliver them{}", epoch, failed,
                        theirs.missing().isEmpty() ? "" : "; no listing from " + theirs.missing().stream().map(NodeInfo::address).toList());
                break;
            }
            if (pause(gen, 500L << Math.min(attempt, 4))) {
                return;
            }
        }
        progress.finish(failed);
        double secs = progress.elapsedNanos() / 1e9;
        if (progress.copiedObjects() == 0) {
            log.debug("epoch {}: nothing to recover", epoch);
        } else {
            log.info(String.format(Locale.ROOT, "epoch %d: recovered %d objects, %d MiB in %.1f s (%.0f MB/s)", epoch,
                    progress.copiedObjects(), progress.copiedBytes() >> 20, secs, secs > 0 ? progress.copiedBytes() / 1e6 / secs : 0));
        }
        if (stale) {
            removeStale(epoch, gen, p.ring());
        }
    }

    /** Runs the plan's fetches, {@link #PARALLEL} at a time; returns how many failed. */
    private long execute(long epoch, long gen, RecoveryPlan plan) throws InterruptedException {
        Semaphore slots = new Semaphore(PARALLEL);
        long[] failed = new long[1];
        int n = 0;
        for (Task planned : plan.tasks()) {
            Task t = spread(planned, n++);
            if (superseded(gen)) {
                break;
            }
            long size = recovery.objectSize(t.oid());
            throttle.acquire(size);
            slots.acquire();
            recovery.recover(epoch, t).whenComplete((copied, err) -> {
                if (err != null) {
                    synchronized (failed) {
                        failed[0]++;
                    }
                    progress.retrying(1, size);
                    log.debug("epoch {}: recovering object {} failed: {}", epoch, ObjectIds.toHex(t.oid()),
                            KelpieException.messageOf(err));
                } else {
                    progress.done(size, copied);
                }
                slots.release();
            });
        }
        slots.acquire(PARALLEL); // the last fetches
        slots.release(PARALLEL);
        synchronized (failed) {
            return failed[0];
        }
    }

    /**
     * The task with its sources rotated by {@code n}: equal holders of the newest version share
     * the fetches instead of the first in ring order serving all of them (its disk, its event loop
     * and one connection were the bottleneck; the others sat idle).
     */
    static Task spread(Task t, int n) {
        List<NodeInfo> s = t.sources();
        if (s.size() < 2) {
            return t;
        }
        List<NodeInfo> rotated = new ArrayList<>(s.size());
        for (int i = 0; i < s.size(); i++) {
            rotated.add(s.get((i + n) % s.size()));
        }
        return new Task(t.oid(), t.version(), rotated);
    }

    /**
     * Once every member reports {@code epoch} done, deletes the copies this node no longer owns
     * that every current replica holds at least as new. A newer epoch (a node joining or leaving
     * meanwhile) abandons it; that epoch's pass starts it over.
     */
    private void removeStale(long epoch, long gen, Ring ring) throws InterruptedException, java.io.IOException {
        while (true) {
            if (superseded(gen)) {
                return;
            }
            if (cluster.placement().ioRefusal() == null) {
                List<OfNode> all = members.statuses(ring.nodes(), cluster.self(), this::status);
                if (all.stream().allMatch(n -> n.status() != null && n.status().doneWith(epoch))) {
                    break;
                }
            }
            if (pause(gen, POLL_MILLIS)) {
                return;
            }
        }
        Versions theirs = members.versions(ring.nodes(), cluster.self());
        Map<Long, Long> local = members.local();
        RecoveryPlan plan = RecoveryPlan.compute(cluster.self(), ring, local, theirs.listings(), copiesOf);
        List<Long> doomed = RecoveryPlan.deletable(ring, plan.notOwned(), local, theirs.byNode(), copiesOf);
        if (!doomed.isEmpty()) {
            StaleObjects.Freed f = StaleObjects.delete(store, doomed, () -> superseded(gen));
            log.info("epoch {}: every node has recovered; deleted {} object(s) this node no longer holds, {} MiB freed",
                    epoch, f.objects(), f.bytes() >> 20);
        }
        progress.stale(plan.notOwned().size() - (superseded(gen) ? 0 : doomed.size()));
        if (plan.orphans() > 0) {
            log.info("epoch {}: {} object(s) of VDIs this node does not know are kept", epoch, plan.orphans());
        }
    }

    private boolean superseded(long gen) {
        synchronized (signal) {
            return closed || generation != gen;
        }
    }

    /** Waits up to {@code millis}; true when a newer epoch (or close) ended the wait. */
    private boolean pause(long gen, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        synchronized (signal) {
            while (!closed && generation == gen) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return false;
                }
                try {
                    signal.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
            }
            return true;
        }
    }

    @Override
    public void close() {
        synchronized (signal) {
            closed = true;
            signal.notifyAll();
        }
        thread.interrupt();
        try {
            thread.join(5000); // no install may land after the node closes its store
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** For tests: the objects the last plan would fetch now (no side effects). */
    List<Task> planNow() throws java.io.IOException {
        Placement p = cluster.placement();
        Versions theirs = members.versions(p.ring().nodes(), cluster.self());
        return RecoveryPlan.compute(cluster.self(), p.ring(), members.local(), theirs.listings(), copiesOf).tasks();
    }
}
