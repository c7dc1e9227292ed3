package io.kelpie.gateway;

import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one client request as attempts under successive placements, all within one time budget:
 * while the cluster refuses I/O (no quorum, waiting for nodes) it waits for the placement to
 * change; after an attempt failed for a reason a new epoch can cure (a replica unreachable or on
 * another epoch, too few copies because of those) it waits for the next epoch, or a moment, and
 * tries again. When the budget is spent the request fails: NO_QUORUM with the refusal, or the
 * attempt's last error. Every wait ends on a worker thread, never on the cluster thread.
 */
final class RetryLoop {
    private static final Logger log = LoggerFactory.getLogger(RetryLoop.class);
    /** An unreachable replica is retried at least this often even if no new epoch came. */
    private static final long MAX_EPOCH_WAIT_MILLIS = 1000;

    /** One attempt under a placement; {@code deadline} (System.nanoTime) bounds its requests. */
    interface Attempt<T> {
        CompletableFuture<T> run(Placement p, long deadline);
    }

    private final ClusterView cluster;
    private final Executor executor;
    private final long budgetNanos;
    private final Consumer<Placement> onPlacement;

    /** @param onPlacement sees every placement an attempt starts under (to forget departed laggards) */
    RetryLoop(ClusterView cluster, Executor executor, long budgetMillis, Consumer<Placement> onPlacement) {
        this.cluster = cluster;
        this.executor = executor;
        this.budgetNanos = TimeUnit.MILLISECONDS.toNanos(budgetMillis);
        this.onPlacement = onPlacement;
    }

    /** Marks a request of no one object (a flush). */
    static final long NO_OBJECT = -1;

    /**
     * Runs {@code attempt} until it succeeds, fails for good or the budget is spent. {@code op} and
     * {@code oid} name the request in messages, which are built only when one is needed.
     */
    <T> CompletableFuture<T> run(String op, long oid, Attempt<T> attempt) {
        CompletableFuture<T> result = new CompletableFuture<>();
        step(op, oid, attempt, result, 1, System.nanoTime() + budgetNanos);
        return result;
    }

    private static String describe(String op, long oid) {
        return oid == NO_OBJECT ? op : op + " of object " + ObjectIds.toHex(oid);
    }

    private <T> void step(String op, long oid, Attempt<T> attempt, CompletableFuture<T> result, int n, long deadline) {
        Placement p = cluster.placement();
        onPlacement.accept(p);
        if (p.ioRefusal() != null) {
            long left = leftMillis(deadline);
            if (left <= 0) {
                String msg = describe(op, oid) + " refused: " + p.ioRefusal() + " (epoch " + p.epoch() + ")";
                log.warn("{}", msg);
                result.completeExceptionally(new KelpieException(Status.NO_QUORUM, msg));
                return;
            }
            cluster.placementChanged(p).completeOnTimeout(null, left, TimeUnit.MILLISECONDS)
                    .whenCompleteAsync((x, e) -> step(op, oid, attempt, result, n, deadline), executor);
            return;
        }
        CompletableFuture<T> f;
        try {
            f = attempt.run(p, deadline);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((v, err) -> {
            if (err == null) {
                result.complete(v);
                return;
            }
            Throwable cause = unwrap(err);
            long left = leftMillis(deadline);
            if (!retryable(cause) || left <= 0) {
                if (cause instanceof TooFewCopies tf && tf.status() == Status.NO_SPACE) {
                    log.debug("{}", cause.getMessage()); // the full disk is logged once, by its node's store
                } else if (cause instanceof TooFewCopies) {
                    log.warn("{}", cause.getMessage()); // once per request, when it is given up
                }
                result.completeExceptionally(cause);
                return;
            }
            CompletableFuture<?> wait;
            if (KelpieException.statusOf(cause) == Status.NEW_EPOCH
                    || (cause instanceof TooFewCopies tf && tf.awaitsRepair())) {
                // The replica has not caught up with our epoch yet, or is being repaired: give it a moment.
                wait = CompletableFuture.runAsync(() -> { },
                        CompletableFuture.delayedExecutor(Math.min(left, 50L * n), TimeUnit.MILLISECONDS));
            } else {
                // We are behind (OLD_EPOCH), or a replica is unreachable: the cluster is removing it.
                wait = cluster.placementChanged(p).completeOnTimeout(null, Math.min(left, MAX_EPOCH_WAIT_MILLIS),
                        TimeUnit.MILLISECONDS);
            }
            wait.whenCompleteAsync((x, e) -> {
                if (log.isDebugEnabled()) {
                    log.debug("retrying {} (attempt {}) after {}", describe(op, oid), n + 1, KelpieException.messageOf(cause));
                }
                step(op, oid, attempt, result, n + 1, deadline);
            }, executor);
        });
    }

    /** Whether another epoch may cure the failure. */
    static boolean retryable(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof TooFewCopies tf) {
            return tf.retryable();
        }
        return c instanceof Unreachable || isEpochError(c);
    }

    static boolean isEpochError(Throwable err) {
        Status st = KelpieException.statusOf(err);
        return st == Status.OLD_EPOCH || st == Status.NEW_EPOCH;
    }

    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    static long leftMillis(long deadline) {
        return TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    }

    /** A replica that did not answer (refused, lost, timed out, shutting down). */
    static final class Unreachable extends KelpieException {
        private static final long serialVersionUID = 1L;

        Unreachable(String message) {
            super(Status.IO_ERROR, message);
        }
    }
}
