package io.kelpie.peer.server;

import io.kelpie.common.AcceptLimit;
import io.kelpie.common.Buffers;
import io.kelpie.common.Transports;
import io.kelpie.metrics.PeerRecorder;
import io.kelpie.peer.PeerAuth;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.PeerEncoder;
import io.kelpie.peer.PeerRequestDecoder;
import io.kelpie.peer.ops.PeerOp;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Serves the peer protocol on a node's {@code --bind:--port}: object ops from other nodes, admin
 * ops from the CLI. Requests are decoded on the event loop and served off it: object ops on the
 * node's I/O executor, admin ops (which block on VDI metadata) on a small executor of their own so
 * they can never starve the I/O executor they wait on. Every response carries the node's epoch.
 *
 * <p>Connections are capped apart from the NBD port's ({@link AcceptLimit}): every other node keeps
 * one open here per event loop of its own, so the default leaves room for a large cluster, and a
 * flood of NBD clients can never keep a peer out (nor the reverse).
 */
public final class PeerServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PeerServer.class);
    /** {@code node run --max-peer-connections}: room for 200 other nodes of 16 event loops each, and the CLI. */
    public static final int DEFAULT_MAX_CONNECTIONS = 4096;

    private final Channel channel;
    private final ChannelGroup connections;
    private final ExecutorService adminExecutor;

    private PeerServer(Channel channel, ChannelGroup connections, ExecutorService adminExecutor) {
        this.channel = channel;
        this.connections = connections;
        this.adminExecutor = adminExecutor;
    }

    /**
     * Listens on {@code bind:port} (port 0: any free one) and serves {@code ops} by opcode, object
     * ops on {@code ioExecutor}.
     */
    public static PeerServer start(String bind, int port, EventLoopGroup boss, EventLoopGroup workers,
                                   Map<Integer, PeerOp.Bound> ops, LongSupplier epoch, Executor ioExecutor) throws IOException {
        return start(bind, port, boss, workers, ops, epoch, ioExecutor, DEFAULT_MAX_CONNECTIONS, null);
    }

    /**
     * ... with at most {@code maxConnections} open at once (more are closed as they are accepted)
     * and, with {@code auth}, every connection proving the cluster secret before its first request.
     */
    public static PeerServer start(String bind, int port, EventLoopGroup boss, EventLoopGroup workers,
                                   Map<Integer, PeerOp.Bound> ops, LongSupplier epoch, Executor ioExecutor,
                                   int maxConnections, PeerAuth auth) throws IOException {
        return start(bind, port, boss, workers, ops, epoch, ioExecutor, maxConnections, auth, PeerRecorder.OFF);
    }

    /** ... counting the requests served, by opcode, in {@code recorder}. */
    public static PeerServer start(String bind, int port, EventLoopGroup boss, EventLoopGroup workers,
                                   Map<Integer, PeerOp.Bound> ops, LongSupplier epoch, Executor ioExecutor,
                                   int maxConnections, PeerAuth auth, PeerRecorder recorder) throws IOException {
        AcceptLimit limit = new AcceptLimit("peer", "--max-peer-connections", maxConnections);
        AtomicInteger n = new AtomicInteger();
        ExecutorService admin = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "kelpie-admin-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ChannelGroup connections = new DefaultChannelGroup("kelpie-peer", GlobalEventExecutor.INSTANCE);
        PeerDispatcher dispatcher = new PeerDispatcher(epoch, ops, ioExecutor, admin, recorder);
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(Transports.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .handler(limit)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // payloads are retained slices handed to I/O threads: keep them in the well-proven
                // pooled allocator rather than netty 4.2's default adaptive one
                .childOption(ChannelOption.ALLOCATOR, Buffers.ALLOCATOR)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        if (auth != null) {
                            ch.pipeline().addLast(new AuthServerHandler(auth)); // ahead of the decoder; gone once proved
                        }
                        ch.pipeline().addLast(new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true),
                                new PeerRequestDecoder(), PeerEncoder.INSTANCE, dispatcher);
                    }
                });
        Transports.detectDeadPeers(b);
        var f = b.bind(bind, port).awaitUninterruptibly();
        if (!f.isSuccess()) {
            admin.shutdownNow();
            throw new IOException("cannot listen on " + bind + ":" + port + " for the peer protocol: "
                    + PeerClient.reason(f.cause()), f.cause());
        }
        PeerServer server = new PeerServer(f.channel(), connections, admin);
        log.info("peer/admin protocol listening on {}:{}{}", bind, server.port(),
                auth != null ? ", connections must prove the cluster secret" : "");
        return server;
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
        // clients must see the connection drop (and fail their requests) rather than hang
        connections.close().awaitUninterruptibly();
        adminExecutor.shutdown();
        try {
            adminExecutor.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
