package io.kelpie.node;

import io.netty.channel.EventLoopGroup;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The node's threads: named daemon factories, and stopping executors within a bound (as {@link Closer} parts). */
final class Threads {
    private Threads() {
    }

    /** Daemon threads named {@code prefix-1, prefix-2, ...}. */
    static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Closing it lets queued work finish, waiting at most {@code seconds}; null for null. */
    static AutoCloseable draining(ExecutorService e, long seconds) {
        return e == null ? null : () -> {
            e.shutdown();
            await(e, seconds);
        };
    }

    /** Closing it interrupts running work and drops queued work, waiting at most {@code seconds}; null for null. */
    static AutoCloseable interrupting(ExecutorService e, long seconds) {
        return e == null ? null : () -> {
            e.shutdownNow();
            await(e, seconds);
        };
    }

    /** Closing it stops the group without a quiet period (the node's connections are closed by then); null for null. */
    static AutoCloseable stopping(EventLoopGroup group) {
        return group == null ? null : () -> group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static void await(ExecutorService e, long seconds) {
        try {
            e.awaitTermination(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
        }
    }
}
