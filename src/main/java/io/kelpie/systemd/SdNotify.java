package io.kelpie.systemd;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * systemd's notify protocol (sd_notify(3)) for a {@code Type=notify} unit: newline-separated
 * {@code KEY=VALUE} datagrams to the AF_UNIX socket in {@code $NOTIFY_SOCKET} ({@code @name} is
 * the abstract namespace). The JDK has no Unix datagram socket, netty's epoll transport has one,
 * so no libsystemd binding is needed. Without {@code $NOTIFY_SOCKET} every call does nothing, and
 * a failed send is logged once, never thrown: notification must not stop a node that serves.
 */
public final class SdNotify implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SdNotify.class);
    private static final SdNotify NONE = new SdNotify(null, null, null, 0);

    private final EventLoopGroup group;
    private final Channel channel;
    private final DomainSocketAddress target;
    private final long watchdogMicros;
    private volatile boolean failed;
    private ScheduledFuture<?> watchdog;

    private SdNotify(EventLoopGroup group, Channel channel, DomainSocketAddress target, long watchdogMicros) {
        this.group = group;
        this.channel = channel;
        this.target = target;
        this.watchdogMicros = watchdogMicros;
    }

    /** A notifier for {@code $NOTIFY_SOCKET} (and {@code $WATCHDOG_USEC} if it is meant for {@code pid}). */
    public static SdNotify of(Map<String, String> env, long pid) {
        String socket = env.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return NONE;
        }
        if (!socket.startsWith("/") && !socket.startsWith("@")) {
            log.warn("NOTIFY_SOCKET={} is neither a path nor an abstract socket name; not notifying systemd", socket);
            return NONE;
        }
        if (!Epoll.isAvailable()) {
            log.warn("cannot notify systemd at {}: Unix datagram sockets need netty's epoll transport", socket);
            return NONE;
        }
        // abstract names start with a NUL byte on the wire
        String path = socket.startsWith("@") ? "\0" + socket.substring(1) : socket;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("kelpie-sd-notify", true),
                EpollIoHandler.newFactory());
        try {
            // unconnected, each message sent to the path (as sd_notify does): writable once registered
            Channel ch = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .handler(new ChannelInboundHandlerAdapter()).register().syncUninterruptibly().channel();
            return new SdNotify(group, ch, new DomainSocketAddress(path), watchdogMicros(env, pid));
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            log.warn("cannot notify systemd at {}: {}", socket, e.toString());
            return NONE;
        }
    }

    public static SdNotify fromEnvironment() {
        return of(System.getenv(), ProcessHandle.current().pid());
    }

    private static long watchdogMicros(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC");
        String forPid = env.get("WATCHDOG_PID");
        if (usec == null || (forPid != null && !forPid.trim().equals(Long.toString(pid)))) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(usec.trim()));
        } catch (NumberFormatException e) {
            log.warn("WATCHDOG_USEC is not a number: '{}'; no watchdog pings", usec);
            return 0;
        }
    }

    public boolean enabled() {
        return channel != null;
    }

    /** The service is up ({@code READY=1}), with a one-line status for {@code systemctl status}. */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status) + "\nMAINPID=" + ProcessHandle.current().pid() + "\n");
    }

    public void status(String status) {
        send("STATUS=" + oneLine(status) + "\n");
    }

    /** The service is shutting down: systemd waits for the exit instead of calling it a failure. */
    public void stopping(String status) {
        send("STOPPING=1\nSTATUS=" + oneLine(status) + "\n");
    }

    /**
     * With {@code WatchdogSec=} set on the unit, pings systemd at half its interval while
     * {@code healthy} holds; when it stops holding (or the process hangs) systemd restarts the unit.
     * Returns whether a watchdog was asked for.
     */
    public boolean watchdog(BooleanSupplier healthy) {
        if (channel == null || watchdogMicros == 0) {
            return false;
        }
        long every = Math.max(1, watchdogMicros / 2);
        watchdog = channel.eventLoop().scheduleAtFixedRate(() -> {
            if (healthy.getAsBoolean()) {
                send("WATCHDOG=1\n");
            }
        }, 0, every, TimeUnit.MICROSECONDS);
        return true;
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ');
    }

    private void send(String message) {
        if (channel == null) {
            return;
        }
        channel.writeAndFlush(new DomainDatagramPacket(Unpooled.copiedBuffer(message, StandardCharsets.UTF_8), target))
                .addListener(f -> {
                    if (!f.isSuccess() && !failed) {
                        failed = true;
                        log.warn("cannot notify systemd at {}: {}", target.path().replace('\0', '@'), f.cause().toString());
                    }
                });
    }

    /** Sends what is queued, then closes the socket. */
    @Override
    public void close() {
        if (channel == null) {
            return;
        }
        if (watchdog != null) {
            watchdog.cancel(false);
        }
        channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
