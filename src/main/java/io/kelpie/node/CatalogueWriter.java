package io.kelpie.node;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Saves the VDI catalogue file off the cluster's ordered thread. {@link #changed()} only marks it
 * dirty and makes sure one write is scheduled; the write takes the snapshot when it runs, so a
 * burst of catalogue operations costs one file write and the latest state always wins. The file
 * only matters when a node restarts alone (the cluster hands a joiner its catalogue), and
 * {@link #close()} writes the last state before the node stops. A save that fails (a full disk)
 * is tried again every {@link #RETRY_MILLIS} until one succeeds, logged once each way, so a change
 * made while full is not left unsaved until the next one.
 */
final class CatalogueWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CatalogueWriter.class);

    /** Writes the file atomically. */
    interface Sink {
        void write(byte[] bytes) throws IOException;
    }

    static final long RETRY_MILLIS = 1000;

    private final Supplier<byte[]> snapshot;
    private final long retryMillis;
    private final Sink sink;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(Threads.named("kelpie-catalogue"));
    private final Object lock = new Object();
    private boolean dirty;
    private boolean scheduled;
    private boolean failing;
    private CompletableFuture<Void> last = CompletableFuture.completedFuture(null);

    CatalogueWriter(Supplier<byte[]> snapshot, Sink sink) {
        this(snapshot, sink, RETRY_MILLIS);
    }

    CatalogueWriter(Supplier<byte[]> snapshot, Sink sink, long retryMillis) {
        this.snapshot = snapshot;
        this.sink = sink;
        this.retryMillis = retryMillis;
    }

    /** The catalogue changed: save it soon. Never blocks. */
    void changed() {
        synchronized (lock) {
            dirty = true;
            if (scheduled) {
                return;
            }
            scheduled = true;
            last = CompletableFuture.runAsync(this::writeOnce, thread);
        }
    }

    private void writeOnce() {
        synchronized (lock) {
            scheduled = false;
            if (!dirty) {
                return;
            }
            dirty = false;
        }
        try {
            sink.write(snapshot.get());
            synchronized (lock) {
                if (failing) {
                    failing = false;
                    log.info("saved the VDI catalogue again");
                }
            }
        } catch (IOException | RuntimeException e) {
            synchronized (lock) {
                if (!failing) {
                    failing = true;
                    log.error("cannot save the VDI catalogue (trying again every {} ms): {}", retryMillis, e.getMessage());
                }
                dirty = true;
                if (!scheduled && !thread.isShutdown()) { // a change meanwhile has scheduled one already
                    scheduled = true;
                    last = CompletableFuture.runAsync(this::writeOnce,
                            CompletableFuture.delayedExecutor(retryMillis, TimeUnit.MILLISECONDS, thread));
                }
            }
        }
    }

    /** Waits until every change so far is on disk. */
    void flush() {
        CompletableFuture<Void> f;
        synchronized (lock) {
            if (dirty && !scheduled) {
                scheduled = true;
                last = CompletableFuture.runAsync(this::writeOnce, thread);
            }
            f = last;
        }
        f.join();
    }

    @Override
    public void close() {
        try {
            flush();
        } catch (RuntimeException e) {
            log.error("cannot save the VDI catalogue on close: {}", e.getMessage());
        }
        thread.shutdown();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
