package io.kelpie.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/** Threads and futures waiting for this node's epoch to reach a number. */
final class EpochWaiters {
    private final LongSupplier current;
    private final Object lock = new Object();
    private final List<Map.Entry<Long, CompletableFuture<Long>>> waiters = new ArrayList<>();

    EpochWaiters(LongSupplier current) {
        this.current = current;
    }

    boolean await(long epoch, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (lock) {
            while (current.getAsLong() < epoch) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return false;
                }
                lock.wait(left);
            }
            return true;
        }
    }

    CompletableFuture<Long> above(long epoch) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        synchronized (lock) {
            long now = current.getAsLong();
            if (now > epoch) {
                f.complete(now);
            } else {
                waiters.add(Map.entry(epoch, f));
            }
        }
        return f;
    }

    /** The epoch is {@code now}: wake whoever waited for it (completions run outside the lock). */
    void advanced(long now) {
        List<CompletableFuture<Long>> ready = new ArrayList<>();
        synchronized (lock) {
            lock.notifyAll();
            waiters.removeIf(w -> {
                if (now > w.getKey() || w.getValue().isDone()) {
                    ready.add(w.getValue());
                    return true;
                }
                return false;
            });
        }
        ready.forEach(f -> f.complete(now));
    }
}
