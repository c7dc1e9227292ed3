package io.kelpie.common;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Accepted sockets carry the short keepalive, whichever transport the platform gives. */
class DeadPeerDetectionTest {
    @Test
    void acceptedSocketsProbeASilentPeerAfterAMinute() throws Exception {
        EventLoopGroup group = Transports.group(1);
        CompletableFuture<int[]> seen = new CompletableFuture<>();
        try {
            ServerBootstrap b = new ServerBootstrap().group(group, group).channel(Transports.serverChannel())
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            seen.complete(Transports.epoll()
                                    ? new int[]{ch.config().getOption(ChannelOption.SO_KEEPALIVE) ? 1 : 0,
                                    ch.config().getOption(EpollChannelOption.TCP_KEEPIDLE),
                                    ch.config().getOption(EpollChannelOption.TCP_KEEPINTVL),
                                    ch.config().getOption(EpollChannelOption.TCP_KEEPCNT)}
                                    : new int[]{ch.config().getOption(ChannelOption.SO_KEEPALIVE) ? 1 : 0,
                                    ch.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE)),
                                    ch.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL)),
                                    ch.config().getOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT))});
                        }
                    });
            Channel server = Transports.detectDeadPeers(b).bind("127.0.0.1", 0).sync().channel();
            try (Socket s = new Socket("127.0.0.1", ((InetSocketAddress) server.localAddress()).getPort())) {
                int[] got = seen.get(10, TimeUnit.SECONDS);
                assertEquals(1, got[0], "SO_KEEPALIVE");
                assertEquals(Transports.KEEPALIVE_IDLE_SECONDS, got[1]);
                assertEquals(Transports.KEEPALIVE_INTERVAL_SECONDS, got[2]);
                assertEquals(Transports.KEEPALIVE_PROBES, got[3]);
            } finally {
                server.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        }
    }
}
