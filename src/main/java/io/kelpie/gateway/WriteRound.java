package io.kelpie.gateway;

import io.kelpie.cluster.NodeInfo;
import io.netty.util.Timeout;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One attempt of a change to an object's replicas: sent to all of them at once, it ends when
 * every replica has answered, or {@code need} of them stored it and the others had
 * {@code stragglerMillis} more to answer, or so many failed that {@code need} is out of reach.
 * A paused replica thus delays a write by the straggler window, never more.
 */
final class WriteRound {

    /**
     * @param stored    replicas that stored the change
     * @param failed    replicas that answered with an error or were unreachable, with the error
     * @param stragglers replicas still working on it when the round ended, with their futures
     */
    record Outcome(List<NodeInfo> stored, Map<NodeInfo, Throwable> failed, Map<NodeInfo, CompletableFuture<Void>> stragglers) {
        /** A round that was not sent. */
        static final Outcome NONE = new Outcome(List.of(), Map.of(), Map.of());

        /** Every replica that may lack the change: failed ones and stragglers. */
        List<NodeInfo> missed() {
            List<NodeInfo> out = new ArrayList<>(failed.keySet());
            out.addAll(stragglers.keySet());
            return out;
        }
    }

    private final int need;
    private final long stragglerMillis;
    private final List<NodeInfo> stored = new ArrayList<>();
    private final Map<NodeInfo, Throwable> failed = new LinkedHashMap<>();
    private final Map<NodeInfo, CompletableFuture<Void>> pending = new LinkedHashMap<>();
    private final CompletableFuture<Outcome> result = new CompletableFuture<>();
    private boolean timerStarted;
    private Timeout timer;

    private WriteRound(int need, long stragglerMillis) {
        this.need = need;
        this.stragglerMillis = stragglerMillis;
    }

    /** Sends {@code op} to every target; {@code need} of them must store it (0: any outcome will do). */
    static CompletableFuture<Outcome> run(List<NodeInfo> targets, int need, long stragglerMillis,
                                          Function<NodeInfo, CompletableFuture<Void>> op) {
        WriteRound r = new WriteRound(need, stragglerMillis);
        Map<NodeInfo, CompletableFuture<Void>> sent = new LinkedHashMap<>();
        synchronized (r) {
            for (NodeInfo n : targets) {
                CompletableFuture<Void> f;
                try {
                    f = op.apply(n);
                } catch (RuntimeException e) {
                    f = CompletableFuture.failedFuture(e);
                }
                r.pending.put(n, f);
                sent.put(n, f);
            }
        }
        // Callbacks are attached after every request is out, so that a quick answer cannot end
        // the round before the last replica was even asked.
        sent.forEach((n, f) -> f.whenComplete((v, err) -> r.answered(n, err)));
        r.check();
        return r.result;
    }

    private void answered(NodeInfo n, Throwable err) {
        synchronized (this) {
            if (result.isDone() || pending.remove(n) == null) {
                return; // a straggler answering after the round ended
            }
            if (err == null) {
                stored.add(n);
            } else {
                failed.put(n, err);
            }
        }
        check();
    }

    private void check() {
        Outcome done = null;
        boolean startTimer = false;
        synchronized (this) {
            if (result.isDone()) {
                return;
            }
            if (pending.isEmpty() || stored.size() + pending.size() < need) {
                done = outcome();
            } else if (stored.size() >= need && !timerStarted) {
                timerStarted = true;
                startTimer = true;
            }
        }
        if (done != null) {
            Timeout t;
            synchronized (this) {
                t = timer;
            }
            if (t != null) {
                t.cancel();
            }
            result.complete(done);
        } else if (startTimer) {
            Timeout t = RoundTimer.after(stragglerMillis, this::stragglersLate);
            synchronized (this) {
                timer = t;
            }
        }
    }

    private void stragglersLate() {
        Outcome done;
        synchronized (this) {
            if (result.isDone()) {
                return;
            }
            done = outcome();
        }
        result.complete(done);
    }

    private Outcome outcome() {
        // the common round, every replica stored it: no maps to copy
        return new Outcome(List.copyOf(stored), failed.isEmpty() ? Map.of() : new LinkedHashMap<>(failed),
                pending.isEmpty() ? Map.of() : new LinkedHashMap<>(pending));
    }
}
