package io.kelpie.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Whether a store's disk is full, and its turns as an operator hears of them, once each: full at
 * the first change that ran out of space, space again at the first probe that could write after
 * {@link #CALM_MILLIS} with no change running out. The calm keeps a disk at the edge (a probe's
 * block fits, an object's do not) from turning every second while clients still write.
 */
final class FullDisk {
    private static final Logger log = LoggerFactory.getLogger(FullDisk.class);
    static final long CALM_MILLIS = 5000;

    private final Path dir;
    private final long calmNanos;
    private final AtomicBoolean full = new AtomicBoolean();
    private volatile long lastRanOut;

    FullDisk(Path dir, long calmMillis) {
        this.dir = dir;
        this.calmNanos = TimeUnit.MILLISECONDS.toNanos(calmMillis);
    }

    boolean full() {
        return full.get();
    }

    /** A change (or the probe) ran out of space. */
    void ranOut(String why) {
        lastRanOut = System.nanoTime();
        if (full.compareAndSet(false, true)) {
            log.warn("data directory {} is full ({}): writes fail with ENOSPC until space is freed, reads go on", dir, why);
        }
    }

    /** A probe could write. */
    void probeWrote() {
        if (full.get() && System.nanoTime() - lastRanOut >= calmNanos && full.compareAndSet(true, false)) {
            log.info("data directory {} has space again: writes go on", dir);
        }
    }
}
