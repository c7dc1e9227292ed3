package io.kelpie.node;

import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.vdi.VdiManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Finishes the reclaims of deleted VDIs that a crash interrupted without waiting for the next
 * delete: after every epoch (a node started, joined, left or crashed) the first member of the
 * epoch resumes them on a thread of its own, never on the ordered thread; one that fails (the
 * cluster not serving yet, an object out of reach) is tried again later, less and less often.
 * It waits for every member to have recovered the epoch: recovery copying an object to its new
 * replica while the reclaim removes it would leave a copy that nothing frees.
 * One member is enough and spares the others the table reads; a placeholder claimed by a delete
 * in progress elsewhere is left to that delete (see {@code Reclaimer}).
 */
final class ReclaimResumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReclaimResumer.class);
    static final long FIRST_RETRY_MILLIS = 500;
    static final long MAX_RETRY_MILLIS = 60_000;
    static final int WARN_AFTER_FAILURES = 8;

    private final Supplier<VdiManager> vdis;
    private final BooleanSupplier recoveryIdle;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(Threads.named("kelpie-reclaim"));
    // Guarded by this: the latest epoch made this node its first member; a run is wanted; one is queued or running.
    private boolean first;
    private boolean again;
    private boolean scheduled;
    private long retryMillis = FIRST_RETRY_MILLIS;
    private int failures;

    /** {@code vdis} supplies null before format; {@code recoveryIdle}: no member is recovering (asks them). */
    ReclaimResumer(Supplier<VdiManager> vdis, BooleanSupplier recoveryIdle) {
        this.vdis = vdis;
        this.recoveryIdle = recoveryIdle;
    }

    /**
     * On the ordered thread: schedules a resume if {@code self} is the epoch's first member (once
     * more after a running one: it may have read the catalogue before this epoch). Never blocks.
     */
    synchronized void epochChanged(Epoch e, NodeInfo self) {
        first = !e.members().isEmpty() && e.members().get(0).id().equals(self.id());
        if (!first) {
            return; // a queued retry stops
        }
        again = true;
        if (!scheduled) {
            scheduled = true;
            retryMillis = FIRST_RETRY_MILLIS;
            failures = 0;
            schedule(0);
        }
    }

    /** Under this. */
    private void schedule(long delayMillis) {
        try {
            thread.schedule(this::resume, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            scheduled = false; // stopping
        }
    }

    private void resume() {
        synchronized (this) {
            if (!first || !again) {
                scheduled = false;
                return;
            }
            again = false;
        }
        VdiManager v = vdis.get();
        try {
            if (v != null && !v.pendingReclaims().isEmpty() && !recoveryIdle.getAsBoolean()) {
                throw new IllegalStateException("waiting for every member to finish recovery");
            }
            int released = v == null ? 0 : v.resumeReclaims();
            if (released > 0) {
                log.info("finished {} interrupted delete(s)", released);
            }
            synchronized (this) {
                retryMillis = FIRST_RETRY_MILLIS;
                failures = 0;
                if (first && again) {
                    schedule(0);
                } else {
                    scheduled = false;
                }
            }
        } catch (RuntimeException ex) {
            synchronized (this) {
                if (!first) {
                    scheduled = false;
                    return;
                }
                // A node that just started is not serving yet: worth a line, not a warning, until it lasts.
                failures++;
                if (failures == 1) {
                    log.info("finishing interrupted deletes: {} (tried again soon)", KelpieException.messageOf(ex));
                } else if (failures == WARN_AFTER_FAILURES) {
                    log.warn("finishing interrupted deletes keeps failing (tried again every {} s): {}", MAX_RETRY_MILLIS / 1000,
                            KelpieException.messageOf(ex));
                }
                again = true;
                schedule(retryMillis);
                retryMillis = Math.min(MAX_RETRY_MILLIS, retryMillis * 2);
            }
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
