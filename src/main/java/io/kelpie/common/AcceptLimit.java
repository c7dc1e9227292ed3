package io.kelpie.common;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps the connections open on one listening port. It sits in the server channel's pipeline (a
 * {@code ServerBootstrap.handler}), ahead of netty's acceptor, so it sees each accepted child
 * before the child is registered with a worker loop: one over the limit is closed there and then,
 * and never costs a pipeline, a handshake or a buffer. An admitted child holds its slot until its
 * close future completes, whoever closes it.
 *
 * <p>Refusals are logged at most once per {@link #WARN_INTERVAL_NANOS}, with how many there were:
 * a flood of connections must not become a flood of log lines.
 */
@ChannelHandler.Sharable
public final class AcceptLimit extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AcceptLimit.class);
    static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final String what;
    private final String option;
    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong unreported = new AtomicLong();
    private final AtomicLong nextWarn = new AtomicLong(System.nanoTime());
    private final Runnable release = open::decrementAndGet;

    /**
     * @param what   names the port in log lines ("NBD", "peer")
     * @param option the setting an operator would raise, named in the warning
     * @param max    connections open at once, at least 1
     */
    public AcceptLimit(String what, String option, int max) {
        if (max < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, not " + max);
        }
        this.what = what;
        this.option = option;
        this.max = max;
    }

    public int max() {
        return max;
    }

    /** Connections admitted and not yet closed. */
    public int open() {
        return open.get();
    }

    /** Connections refused since the port opened. */
    public long refused() {
        return refused.get();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Channel child)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (open.incrementAndGet() > max) {
            open.decrementAndGet();
            refuse(child);
            return;
        }
        child.closeFuture().addListener(f -> release.run());
        ctx.fireChannelRead(child);
    }

    private void refuse(Channel child) {
        refused.incrementAndGet();
        long n = unreported.incrementAndGet();
        long now = System.nanoTime();
        long due = nextWarn.get();
        if (now - due >= 0 && nextWarn.compareAndSet(due, now + WARN_INTERVAL_NANOS)) {
            unreported.addAndGet(-n);
            log.warn("{} connection limit reached ({} open, {} {}): refused {} connection(s) since the last report, "
                    + "the latest from {}", what, open.get(), option, max, n, child.remoteAddress());
        }
        // Not registered with any event loop yet: close the socket directly, as netty's acceptor does
        // with a child it cannot register.
        child.unsafe().closeForcibly();
    }
}
