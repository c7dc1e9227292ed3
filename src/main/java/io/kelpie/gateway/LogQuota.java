package io.kelpie.gateway;

import java.util.concurrent.ConcurrentHashMap;

/** At most one log line per key per window, so that one sick node does not flood the log. */
final class LogQuota {
    static final int WINDOW_SECONDS = 10;
    private static final long WINDOW_NANOS = WINDOW_SECONDS * 1_000_000_000L;

    private final ConcurrentHashMap<String, Long> last = new ConcurrentHashMap<>();

    /** Whether a line for {@code key} may be logged now (and starts its window). */
    boolean allow(String key) {
        long now = System.nanoTime();
        boolean[] allowed = new boolean[1];
        last.compute(key, (k, then) -> {
            if (then == null || now - then >= WINDOW_NANOS) {
                allowed[0] = true;
                return now;
            }
            return then;
        });
        return allowed[0];
    }
}
