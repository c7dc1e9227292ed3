package io.kelpie.gateway;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.Timer;

import java.util.concurrent.TimeUnit;

/**
 * The clock of write rounds' straggler windows: nearly every replicated write arms one and nearly
 * every one is cancelled microseconds later, when the last replica answers. A hashed wheel makes
 * both a queue append, with no wakeup of any thread; {@code CompletableFuture.delayedExecutor}
 * wakes its scheduler thread for each one and, on a machine of two cores, starts a new thread for
 * every task that fires. The wheel's thread wakes every tick, busy or idle: 50 ms of tick are
 * nothing next to a one-second window (a 10 ms tick cost an idle node 1.4% of a core).
 */
final class RoundTimer {
    private static final Timer TIMER = new HashedWheelTimer(r -> {
        Thread t = new Thread(r, "kelpie-round-timer");
        t.setDaemon(true);
        return t;
    }, 50, TimeUnit.MILLISECONDS, 512);

    private RoundTimer() {
    }

    /** Runs {@code task} (briefly: it runs on the timer's one thread) after {@code millis}; cancel the result to drop it. */
    static Timeout after(long millis, Runnable task) {
        return TIMER.newTimeout(t -> task.run(), millis, TimeUnit.MILLISECONDS);
    }
}
