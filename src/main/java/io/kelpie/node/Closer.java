package io.kelpie.node;

import io.kelpie.common.KelpieException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Stops a node's parts in the order given. */
final class Closer {
    private static final Logger log = LoggerFactory.getLogger(Closer.class);

    private Closer() {
    }

    /**
     * Closes each part in turn, skipping those never started (null); one that fails is logged and
     * the rest are still closed, so that a node always gets to its stopped state.
     */
    static void inOrder(AutoCloseable... parts) {
        for (AutoCloseable p : parts) {
            if (p == null) {
                continue;
            }
            try {
                p.close();
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                log.error("stopping {} failed: {}", p.getClass().getSimpleName(), KelpieException.messageOf(e));
            }
        }
    }
}
