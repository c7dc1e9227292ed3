package io.kelpie.scrub;

import io.kelpie.store.ObjectStore;
import io.kelpie.store.ObjectStore.ObjectMeta;
import io.kelpie.common.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * The background scrub: walks this node's objects at a bounded rate, verifies each one's blocks
 * against their checksums ({@code stat(oid, true)}), and hands an object with bad blocks to a
 * repair callback (recovery's repair from the other replicas). Bit rot in a rarely read object is
 * found before its other copies are lost too.
 *
 * <p>It runs on a thread of its own at low priority; the rate is kept by waiting after each
 * object until the bytes read so far in the pass are due, so client I/O sees at most one object's
 * read at a time. One repair at a time, waited for (bounded), so a disk full of rot does not turn
 * into a storm of repairs.
 */
public final class Scrubber implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scrubber.class);
    /** The default rate: a 100 GiB node is scrubbed about every seven hours. */
    public static final long DEFAULT_RATE = 4L << 20;
    private static final Duration REPAIR_TIMEOUT = Duration.ofMinutes(2);

    /**
     * What the scrub did since the node started.
     *
     * @param objects  objects verified
     * @param bytes    bytes of objects verified
     * @param errors   objects found with bad blocks (or that could not be read)
     * @param repaired of those, objects the repair callback reported repaired
     */
    public record Stats(long rate, long passes, long objects, long bytes, long errors, long repaired) {
    }

    private final ObjectStore store;
    private final long rate;
    private final Duration pause;
    private volatile LongFunction<CompletableFuture<Void>> repair;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final AtomicLong passes = new AtomicLong();
    private final AtomicLong objects = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong repaired = new AtomicLong();
    private final java.util.Map<Long, List<Integer>> reported = new java.util.concurrent.ConcurrentHashMap<>();
    private Thread thread;

    /**
     * @param rate  bytes per second to verify; 0 disables the scrub
     * @param pause time before the first pass and between the end of a pass and the start of the next
     */
    public Scrubber(ObjectStore store, long rate, Duration pause) {
        if (rate < 0) {
            throw new IllegalArgumentException("scrub rate must be 0 (off) or positive: " + rate);
        }
        this.store = store;
        this.rate = rate;
        this.pause = pause;
    }

    /** Between passes, and before the first: {@code -Dkelpie.scrubPauseMillis} (tests), else a minute. */
    static final long PAUSE_MILLIS = Long.getLong("kelpie.scrubPauseMillis", 60_000);

    public Scrubber(ObjectStore store, long rate) {
        this(store, rate, Duration.ofMillis(PAUSE_MILLIS));
    }

    /** Where objects with bad blocks go; without one, the scrub only logs them. */
    public Scrubber repairWith(LongFunction<CompletableFuture<Void>> repair) {
        this.repair = repair;
        return this;
    }

    public synchronized Scrubber start() {
        if (rate > 0 && thread == null) {
            thread = new Thread(this::run, "kelpie-scrub");
            thread.setDaemon(true);
            thread.setPriority(Thread.MIN_PRIORITY);
            thread.start();
            log.info("scrub: verifying objects at {} bytes/s", rate);
        }
        return this;
    }

    public Stats stats() {
        return new Stats(rate, passes.get(), objects.get(), bytes.get(), errors.get(), repaired.get());
    }

    private void run() {
        try {
            // the first pass waits too: a node that just started has recovery and clients to serve first
            while (!stop.await(pause.toMillis(), TimeUnit.MILLISECONDS)) {
                pass();
                passes.incrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("scrub stopped by an unexpected error", e);
        }
    }

    private void pass() throws InterruptedException {
        List<Long> oids;
        try {
            oids = store.list().stream().sorted().toList();
        } catch (IOException e) {
            log.warn("scrub: listing objects failed: {}", e.getMessage());
            return;
        }
        long start = System.nanoTime();
        long passBytes = 0;
        for (long oid : oids) {
            if (stop.getCount() == 0) {
                return;
            }
            passBytes += scrub(oid);
            long due = start + (long) (passBytes * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0 && stop.await(wait, TimeUnit.NANOSECONDS)) {
                return;
            }
        }
    }

    /** Verifies one object (repairing it if bad) and returns the bytes read. */
    private long scrub(long oid) throws InterruptedException {
        String name = ObjectIds.toHex(oid);
        long size;
        ObjectMeta m;
        try {
            size = store.size(oid);
            m = store.stat(oid, true);
        } catch (IOException e) {
            errors.incrementAndGet();
            log.warn("scrub: object {} could not be verified: {}", name, e.getMessage());
            return 0;
        }
        if (!m.exists()) {
            return 0; // removed since the listing
        }
        objects.incrementAndGet();
        bytes.addAndGet(size);
        if (m.verified()) {
            reported.remove(oid);
        } else {
            errors.incrementAndGet();
            LongFunction<CompletableFuture<Void>> r = repair;
            List<Integer> bad = m.badBlocks();
            // one warning per finding, not one per pass while it stays unrepaired
            if (!bad.equals(reported.put(oid, bad))) {
                log.warn("scrub: object {} has {} bad block(s) {}{}", name, bad.size(),
                        bad.size() > 8 ? bad.subList(0, 8) + "..." : bad, r == null ? "; no repair configured" : ", repairing");
            }
            if (r != null) {
                repair(r, oid, name);
            }
        }
        return size;
    }

    private void repair(LongFunction<CompletableFuture<Void>> r, long oid, String name) throws InterruptedException {
        try {
            CompletableFuture<Void> f = r.apply(oid);
            long deadline = System.nanoTime() + REPAIR_TIMEOUT.toNanos();
            while (true) {
                try {
                    f.get(200, TimeUnit.MILLISECONDS);
                    break;
                } catch (TimeoutException e) {
                    if (stop.getCount() == 0) {
                        return;
                    }
                    if (System.nanoTime() > deadline) {
                        log.warn("scrub: repair of object {} did not finish in {} s; going on", name,
                                REPAIR_TIMEOUT.toSeconds());
                        return;
                    }
                }
            }
            repaired.incrementAndGet();
            log.info("scrub: object {} repaired", name);
        } catch (ExecutionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            log.warn("scrub: repair of object {} failed: {}", name, c.getMessage());
        } catch (RuntimeException e) {
            log.warn("scrub: repair of object {} failed: {}", name, e.getMessage());
        }
    }

    @Override
    public void close() {
        stop.countDown();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            // never interrupt: an interrupt during FileChannel I/O closes the store's shared channel
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
