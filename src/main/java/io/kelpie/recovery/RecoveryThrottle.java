package io.kelpie.recovery;

import java.util.concurrent.TimeUnit;

/**
 * The {@code --recovery-rate} limit: a virtual clock that each fetch reserves its bytes on, so
 * that fetches start no faster than the rate allows (a token bucket without burst). Rate 0 means
 * unlimited. Only background recovery waits here; an object a client is waiting for does not.
 */
public final class RecoveryThrottle {
    private final long bytesPerSecond;
    private long nextFreeNanos = System.nanoTime();

    public RecoveryThrottle(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("recovery rate must not be negative");
        }
        this.bytesPerSecond = bytesPerSecond;
    }

    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** Nanoseconds the caller must wait before moving {@code bytes}; reserves them. */
    public synchronized long reserve(long bytes) {
        if (bytesPerSecond == 0) {
            return 0;
        }
        long now = System.nanoTime();
        long start = Math.max(now, nextFreeNanos);
        nextFreeNanos = start + (long) (bytes * 1e9 / bytesPerSecond);
        return start - now;
    }

    /** Blocks (the recovery thread, never an event loop) until {@code bytes} may move. */
    public void acquire(long bytes) throws InterruptedException {
        long wait = reserve(bytes);
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
