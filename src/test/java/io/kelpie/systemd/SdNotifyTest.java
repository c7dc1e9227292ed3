package io.kelpie.systemd;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What systemd would read on its notify socket: a receiving datagram socket stands in for it. */
class SdNotifyTest {
    private EventLoopGroup group;
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();

    @BeforeEach
    void epoll() {
        assumeTrue(Epoll.isAvailable(), "Unix datagram sockets need epoll");
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    @AfterEach
    void stop() {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private Channel systemd(String path) {
        return new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                        received.add(p.content().toString(StandardCharsets.UTF_8));
                    }
                }).bind(new DomainSocketAddress(path)).syncUninterruptibly().channel();
    }

    private String next() throws InterruptedException {
        String m = received.poll(10, TimeUnit.SECONDS);
        assertNotNull(m, "no notification arrived");
        return m;
    }

    @Test
    void readyStatusAndStoppingReachTheNotifySocket(@TempDir Path dir) throws Exception {
        String path = dir.resolve("notify").toString();
        Channel sd = systemd(path);
        try (SdNotify n = SdNotify.of(Map.of("NOTIFY_SOCKET", path), 42)) {
            assertTrue(n.enabled());
            n.ready("serving NBD on port 10809\n(two lines)");
            assertEquals("READY=1\nSTATUS=serving NBD on port 10809 (two lines)\nMAINPID=" + ProcessHandle.current().pid() + "\n", next());
            n.status("recovering");
            assertEquals("STATUS=recovering\n", next());
            n.stopping("stopping");
            assertEquals("STOPPING=1\nSTATUS=stopping\n", next());
            assertFalse(n.watchdog(() -> true), "no WATCHDOG_USEC: no pings");
        } finally {
            sd.close().syncUninterruptibly();
        }
    }

    @Test
    void anAbstractSocketNameWorks() throws Exception {
        String name = "kelpie-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Channel sd = systemd("\0" + name);
        try (SdNotify n = SdNotify.of(Map.of("NOTIFY_SOCKET", "@" + name), 42)) {
            n.ready("up");
            assertTrue(next().startsWith("READY=1\n"));
        } finally {
            sd.close().syncUninterruptibly();
        }
    }

    @Test
    void theWatchdogPingsOnlyWhileHealthy(@TempDir Path dir) throws Exception {
        String path = dir.resolve("notify").toString();
        Channel sd = systemd(path);
        AtomicBoolean healthy = new AtomicBoolean(true);
        try (SdNotify n = SdNotify.of(Map.of("NOTIFY_SOCKET", path, "WATCHDOG_USEC", "20000", "WATCHDOG_PID", "42"), 42)) {
            assertTrue(n.watchdog(healthy::get));
            assertEquals("WATCHDOG=1\n", next());
            assertEquals("WATCHDOG=1\n", next());
            healthy.set(false);
            received.poll(100, TimeUnit.MILLISECONDS); // one may have been on its way
            received.clear();
            assertNull(received.poll(200, TimeUnit.MILLISECONDS), "pinged while unhealthy");
        } finally {
            sd.close().syncUninterruptibly();
        }
    }

    @Test
    void withoutANotifySocketNothingIsSent() {
        try (SdNotify n = SdNotify.of(Map.of(), 42)) {
            assertFalse(n.enabled());
            n.ready("up"); // no effect, no failure
        }
        try (SdNotify n = SdNotify.of(Map.of("NOTIFY_SOCKET", "relative/path"), 42)) {
            assertFalse(n.enabled());
        }
        try (SdNotify n = SdNotify.of(Map.of("NOTIFY_SOCKET", "/x", "WATCHDOG_USEC", "1000", "WATCHDOG_PID", "7"), 42)) {
            assertFalse(n.watchdog(() -> true), "a watchdog meant for another pid");
        }
    }
}
