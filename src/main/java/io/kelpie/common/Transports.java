package io.kelpie.common;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import jdk.net.ExtendedSocketOptions;

/** Netty's native epoll transport where the platform has it, NIO elsewhere. */
public final class Transports {
    /** TCP keepalive on accepted connections: the first probe after this much silence, ... */
    public static final int KEEPALIVE_IDLE_SECONDS = 60;
    /** ... then one every so often, ... */
    public static final int KEEPALIVE_INTERVAL_SECONDS = 10;
    /** ... and the connection is dropped after this many unanswered ones. */
    public static final int KEEPALIVE_PROBES = 6;

    private Transports() {
    }

    /**
     * Finds out accepted connections whose peer vanished without a FIN or RST (a host powered off,
     * a cable pulled) in about two minutes instead of Linux's default of over two hours, so that they
     * give back their connection slot (and an NBD client's VDI claim). Keepalive probes go only on an
     * idle connection and any live host answers them, so a client that is merely quiet (or a
     * paused VM) is never dropped.
     */
    public static ServerBootstrap detectDeadPeers(ServerBootstrap b) {
        b.childOption(ChannelOption.SO_KEEPALIVE, true);
        if (epoll()) {
            b.childOption(EpollChannelOption.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS)
                    .childOption(EpollChannelOption.TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS)
                    .childOption(EpollChannelOption.TCP_KEEPCNT, KEEPALIVE_PROBES);
        } else {
            b.childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), KEEPALIVE_IDLE_SECONDS)
                    .childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), KEEPALIVE_INTERVAL_SECONDS)
                    .childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), KEEPALIVE_PROBES);
        }
        return b;
    }

    public static boolean epoll() {
        return Epoll.isAvailable() && !Boolean.getBoolean("kelpie.nio");
    }

    public static EventLoopGroup group(int threads) {
        IoHandlerFactory factory = epoll() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(threads, factory);
    }

    public static Class<? extends ServerSocketChannel> serverChannel() {
        return epoll() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** A server channel on a socket that is already bound and listening (socket activation); epoll only. */
    public static ServerSocketChannel serverChannel(int fd) {
        if (!epoll()) {
            throw new IllegalStateException("a listening socket from systemd needs the epoll transport");
        }
        return new EpollServerSocketChannel(fd);
    }

    public static Class<? extends SocketChannel> clientChannel() {
        return epoll() ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
