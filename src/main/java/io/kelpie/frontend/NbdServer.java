package io.kelpie.frontend;

import io.kelpie.common.AcceptLimit;
import io.kelpie.metrics.NbdMetrics;
import io.kelpie.nbd.NbdHandshakeHandler;
import io.kelpie.nbd.NbdLimits;
import io.kelpie.nbd.NbdTls;
import io.kelpie.vdi.VdiManager;
import io.kelpie.common.Transports;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The node's NBD server: every VDI exported to nbd-client, QEMU, libnbd and fio on the node's
 * event loops. It needs only the node's VDIs (null before the cluster is formatted; replaced by a
 * format), its event loops and its allocator.
 *
 * <p>Bounded against idle and hostile clients: at most {@code maxConnections} open at once (more are
 * closed at accept, see {@link AcceptLimit}), and a connection that has not chosen an export within
 * the handshake timeout is dropped; in transmission, a connection's requests in flight are bounded
 * by {@link NbdTransmissionHandler}.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    /** {@code node run --max-connections}: far more clients than one node serves well, far fewer than its file descriptors. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    private final Channel server;
    private final ChannelGroup channels = new DefaultChannelGroup("nbd", GlobalEventExecutor.INSTANCE);
    private final ExecutorService catalogue;
    private final VdiExports exports;
    private final AcceptLimit limit;

    private NbdServer(String bind, int port, EventLoopGroup boss, EventLoopGroup workers, ByteBufAllocator alloc,
                      Supplier<VdiManager> vdis, int maxConnections, long handshakeMillis, NbdTls tls,
                      NbdMetrics metrics, int inheritedFd) throws IOException {
        limit = new AcceptLimit("NBD", "--max-connections", maxConnections);
        AtomicInteger n = new AtomicInteger();
        catalogue = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "kelpie-nbd-catalogue-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        exports = new VdiExports(vdis, catalogue, metrics);
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(limit)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.ALLOCATOR, alloc)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 8 << 20))
                .childOption(ChannelOption.MESSAGE_SIZE_ESTIMATOR, ReplySizes.INSTANCE)
                // a 1 MiB write arrives in a few large reads instead of 16 of netty's default 64 KiB
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(512, 16 << 10,
                        Integer.getInteger("kelpie.nbdMaxRead", 1 << 20)))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        // replies of one batch of requests (or of one loop turn) leave in one write(2)
                        ch.pipeline().addLast("flush-consolidation", new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
                        // STARTTLS puts the TLS handler first, ahead of this one
                        ch.pipeline().addLast("nbd-handshake", new NbdHandshakeHandler(exports, tls, handshakeMillis));
                    }
                });
        Transports.detectDeadPeers(b);
        String where = inheritedFd >= 0 ? "the socket systemd passed (fd " + inheritedFd + ")" : bind + ":" + port;
        try {
            if (inheritedFd >= 0) {
                // socket activation: the socket is bound and listening already; registering starts the accepts
                io.netty.channel.ChannelFactory<io.netty.channel.ServerChannel> f = () -> Transports.serverChannel(inheritedFd);
                server = b.channelFactory(f).register().syncUninterruptibly().channel();
                if (!(server.localAddress() instanceof InetSocketAddress)) {
                    server.close();
                    throw new IOException("the socket systemd passed (fd " + inheritedFd + ") is not a TCP socket: "
                            + server.localAddress() + " (kelpie-nbd.socket needs ListenStream=[ADDRESS:]PORT)");
                }
            } else {
                server = b.channel(Transports.serverChannel()).bind(new InetSocketAddress(bind, port)).syncUninterruptibly().channel();
            }
        } catch (RuntimeException | IOException e) {
            catalogue.shutdownNow();
            throw new IOException("cannot listen for NBD on " + where + ": " + e.getMessage(), e);
        }
        InetSocketAddress at = (InetSocketAddress) server.localAddress();
        log.info("NBD server listening on {}:{}{} (at most {} connections, handshake within {} ms{})",
                at.getAddress().getHostAddress(), at.getPort(),
                inheritedFd >= 0 ? " from systemd" : "", maxConnections, handshakeMillis, tls.mode() == NbdTls.Mode.OFF ? ""
                        : tls.mode() == NbdTls.Mode.ON ? ", TLS offered" : ", TLS required");
    }

    /** The default limits: {@link #DEFAULT_MAX_CONNECTIONS}, {@link NbdLimits#HANDSHAKE_TIMEOUT_SECONDS}. */
    public static NbdServer start(String bind, int port, EventLoopGroup boss, EventLoopGroup workers, ByteBufAllocator alloc,
                                  Supplier<VdiManager> vdis) throws IOException {
        return start(bind, port, boss, workers, alloc, vdis, DEFAULT_MAX_CONNECTIONS,
                TimeUnit.SECONDS.toMillis(NbdLimits.HANDSHAKE_TIMEOUT_SECONDS), NbdTls.OFF);
    }

    /**
     * @param vdis            the node's VDIs, or null while the cluster is not formatted
     * @param maxConnections  connections open at once; more are closed as they are accepted
     * @param handshakeMillis a connection that has not entered transmission by then is closed
     * @param tls             STARTTLS offered, required or not at all
     */
    public static NbdServer start(String bind, int port, EventLoopGroup boss, EventLoopGroup workers, ByteBufAllocator alloc,
                                  Supplier<VdiManager> vdis, int maxConnections, long handshakeMillis, NbdTls tls)
            throws IOException {
        return start(bind, port, boss, workers, alloc, vdis, maxConnections, handshakeMillis, tls, NbdMetrics.OFF);
    }

    /** ... counting every export's requests, bytes and latency in {@code metrics}. */
    public static NbdServer start(String bind, int port, EventLoopGroup boss, EventLoopGroup workers, ByteBufAllocator alloc,
                                  Supplier<VdiManager> vdis, int maxConnections, long handshakeMillis, NbdTls tls,
                                  NbdMetrics metrics) throws IOException {
        return new NbdServer(bind, port, boss, workers, alloc, vdis, maxConnections, handshakeMillis, tls, metrics, -1);
    }

    /** ... or, with {@code inheritedFd >= 0}, on that listening socket systemd passed (socket activation). */
    public static NbdServer listen(String bind, int port, int inheritedFd, EventLoopGroup boss, EventLoopGroup workers,
                                   ByteBufAllocator alloc, Supplier<VdiManager> vdis, int maxConnections,
                                   long handshakeMillis, NbdTls tls, NbdMetrics metrics) throws IOException {
        return new NbdServer(bind, port, boss, workers, alloc, vdis, maxConnections, handshakeMillis, tls, metrics, inheritedFd);
    }

    /** Connections open now (handshaking or in transmission). */
    public int openConnections() {
        return limit.open();
    }

    /** Connections refused at accept because {@code maxConnections} were open. */
    public long refusedConnections() {
        return limit.refused();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Stops accepting, closes every connection (their VDI handles are released), stops lookups. */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        try {
            // Requests in flight finish before their VDI handles go: the node closes VDIs next.
            if (!exports.awaitReleased(10_000)) {
                log.warn("NBD connections still had requests in flight after 10 s; closing anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        catalogue.shutdown();
        try {
            catalogue.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
