package io.kelpie.metrics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The store's space, sampled at most once per {@link #MAX_AGE_NANOS}: measuring it stats every
 * object file, and the three store gauges of one scrape should cost one walk, not three.
 */
final class SpaceSample {
    private static final Logger log = LoggerFactory.getLogger(SpaceSample.class);
    static final long MAX_AGE_NANOS = 5_000_000_000L;

    private final NodeProbe probe;
    private NodeProbe.Space last;
    private long takenNanos;
    private boolean failedBefore;

    SpaceSample(NodeProbe probe) {
        this.probe = probe;
    }

    /** The latest sample; null while the store cannot say (its gauges then read NaN). */
    synchronized NodeProbe.Space get() {
        long now = System.nanoTime();
        if (last == null || now - takenNanos > MAX_AGE_NANOS) {
            try {
                last = probe.space();
                failedBefore = false;
            } catch (IOException | RuntimeException e) {
                if (!failedBefore) {
                    log.warn("metrics: cannot measure the object store's space: {}", e.getMessage());
                    failedBefore = true;
                }
                last = null;
            }
            takenNanos = now;
        }
        return last;
    }
}
