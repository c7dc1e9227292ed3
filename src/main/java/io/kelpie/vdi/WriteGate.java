package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Lets a snapshot find a VDI between writes. Every write, zero and trim of a handle runs through
 * {@link #run}; {@link #pause} stops new ones from starting (they queue, without blocking any
 * thread) and completes once those in flight are done. Then every acknowledged write is in the
 * objects and the table, and none is half done, so the snapshot point is crash-consistent;
 * {@link #resume} starts the queued writes, which then see the VDI's new inode.
 */
final class WriteGate {
    private int inFlight;
    private CompletableFuture<Void> resumed;
    private CompletableFuture<Void> drained;

    <T> CompletableFuture<T> run(Supplier<CompletableFuture<T>> op) {
        CompletableFuture<Void> wait;
        synchronized (this) {
            wait = resumed;
            if (wait == null) {
                inFlight++;
            }
        }
        if (wait != null) {
            return wait.thenCompose(v -> run(op));
        }
        CompletableFuture<T> f;
        try {
            f = op.get();
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((v, e) -> left());
        return f;
    }

    private void left() {
        CompletableFuture<Void> done = null;
        synchronized (this) {
            if (--inFlight == 0 && drained != null) {
                done = drained;
            }
        }
        if (done != null) {
            done.complete(null);
        }
    }

    /** Stops new writes; the future completes when none is in flight. One pause at a time. */
    CompletableFuture<Void> pause() {
        synchronized (this) {
            if (resumed != null) {
                throw new KelpieException(Status.INVALID, "another snapshot of this VDI is under way");
            }
            resumed = new CompletableFuture<>();
            drained = new CompletableFuture<>();
            if (inFlight == 0) {
                drained.complete(null);
            }
            return drained;
        }
    }

    /** Lets the queued writes go, in the order they came. */
    void resume() {
        CompletableFuture<Void> go;
        synchronized (this) {
            go = resumed;
            resumed = null;
            drained = null;
        }
        if (go != null) {
            go.complete(null);
        }
    }
}
