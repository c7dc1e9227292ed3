package io.kelpie.node;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;

/**
 * A store that fails as a whole (read-only, gone, failing) makes the node leave the cluster, so
 * the others recover its objects. The reason is recorded at once and published only once the
 * node has stopped ({@link #publish}, before its stopped() completes): {@code node run} waits for
 * stopped() and must then already see why, to exit 6 rather than 0.
 */
final class StoreFailure {
    private static final Logger log = LoggerFactory.getLogger(StoreFailure.class);

    private final CompletableFuture<String> future = new CompletableFuture<>();
    private volatile String reason;

    /** Completes, after the node has stopped, with the reason its store failed. */
    CompletableFuture<String> future() {
        return future;
    }

    /**
     * The store failed: stop the node on a thread of its own, never the failing I/O thread (which
     * the close waits for). Not a daemon: the JVM must not exit before the node has left.
     */
    void failed(String why, Runnable close) {
        log.error("leaving the cluster: the object store failed: {}", why);
        reason = why;
        Thread t = new Thread(close, "kelpie-store-failed");
        t.setDaemon(false);
        t.start();
    }

    /** Called by the close just before the node reports itself stopped. */
    void publish() {
        String r = reason;
        if (r != null) {
            future.complete(r);
        }
    }
}
