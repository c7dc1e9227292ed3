package io.kelpie.recovery;

import io.kelpie.recovery.RecoveryStatus.State;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The counters of the running pass, read by NODE_RECOVERY at any time. Totals grow when a retry
 * plans more work; done counts only go up within an epoch.
 */
final class RecoveryProgress {
    private volatile State state = State.IDLE;
    private volatile long epoch;
    private volatile long startNanos = System.nanoTime();
    private volatile long endNanos;
    private final AtomicLong objectsDone = new AtomicLong();
    private final AtomicLong objectsTotal = new AtomicLong();
    private final AtomicLong bytesDone = new AtomicLong();
    private final AtomicLong bytesTotal = new AtomicLong();
    private final AtomicLong copiedObjects = new AtomicLong();
    private final AtomicLong copiedBytes = new AtomicLong();
    private volatile long unavailable;
    private volatile long staleObjects;

    /** A new epoch was handed over: RUNNING at once, so no one mistakes the old DONE for it. */
    void pending(long epoch) {
        this.epoch = epoch;
        state = State.RUNNING;
    }

    /** A pass for {@code epoch} starts from nothing done. */
    void start(long epoch) {
        this.epoch = epoch;
        objectsDone.set(0);
        objectsTotal.set(0);
        bytesDone.set(0);
        bytesTotal.set(0);
        copiedObjects.set(0);
        copiedBytes.set(0);
        unavailable = 0;
        startNanos = System.nanoTime();
        endNanos = 0;
        state = State.RUNNING;
    }

    /** A (re)planned attempt adds its objects to the totals. */
    void planned(long objects, long bytes) {
        objectsTotal.addAndGet(objects);
        bytesTotal.addAndGet(bytes);
    }

    void done(long bytes, boolean copied) {
        objectsDone.incrementAndGet();
        bytesDone.addAndGet(bytes);
        if (copied) {
            copiedObjects.incrementAndGet();
            copiedBytes.addAndGet(bytes);
        }
    }

    /** An attempt failed for these: they are planned again by the next attempt. */
    void retrying(long objects, long bytes) {
        objectsTotal.addAndGet(-objects);
        bytesTotal.addAndGet(-bytes);
    }

    void finish(long unavailable) {
        this.unavailable = unavailable;
        endNanos = System.nanoTime();
        state = State.DONE;
    }

    void stale(long objects) {
        staleObjects = objects;
    }

    long copiedObjects() {
        return copiedObjects.get();
    }

    long copiedBytes() {
        return copiedBytes.get();
    }

    long elapsedNanos() {
        long end = endNanos;
        return (end != 0 ? end : System.nanoTime()) - startNanos;
    }

    RecoveryStatus snapshot() {
        State s = state;
        if (s == State.IDLE) {
            return RecoveryStatus.IDLE;
        }
        long elapsed = elapsedNanos();
        long done = bytesDone.get();
        long total = Math.max(done, bytesTotal.get());
        long rate = elapsed > 0 ? (long) (copiedBytes.get() * 1e9 / elapsed) : 0;
        long eta = s == State.DONE ? 0 : rate > 0 ? (total - done) / rate : -1;
        return new RecoveryStatus(s, epoch, objectsDone.get(), Math.max(objectsDone.get(), objectsTotal.get()), done, total,
                rate, eta, unavailable, staleObjects, elapsed / 1_000_000);
    }
}
