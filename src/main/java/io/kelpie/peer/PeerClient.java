package io.kelpie.peer;

import io.kelpie.common.Buffers;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.common.Transports;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.ReferenceCountUtil;

import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A pipelined connection to one node's peer port: any number of requests in flight, responses
 * matched by request id in whatever order they come. A response with a non-OK status completes the
 * future normally (check {@link PeerResponse#ok()}); a timeout or a lost connection fails it with
 * a {@link KelpieException} of status IO_ERROR. Thread-safe.
 */
public final class PeerClient implements AutoCloseable {
    /** For requests that move whole objects (recovery, repair); the gateway passes shorter ones. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** A node that does not accept a connection this fast is down (or its host is). */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /**
     * A request that times out on a connection that has carried nothing back for this long closes
     * it: the peer crashed without a FIN (host down, network gone) or hung, and every later request
     * on the same connection would wait out its own timeout too. The next request reconnects.
     */
    static final long SILENT_CLOSE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final String address;
    private final Channel channel;
    private final Duration timeout;
    private final AtomicLong nextId = new AtomicLong(1);
    private final ConcurrentHashMap<Long, CompletableFuture<PeerResponse>> inFlight = new ConcurrentHashMap<>();
    private volatile String closedReason;
    private volatile long lastReadNanos = System.nanoTime();

    private PeerClient(String address, Channel channel, Duration timeout) {
        this.address = address;
        this.channel = channel;
        this.timeout = timeout;
    }

    /**
     * Connects to {@code host:port} using {@code group} for I/O; blocks until connected.
     *
     * @throws KelpieException "cannot connect to node at HOST:PORT: reason"
     */
    public static PeerClient connect(String hostPort, EventLoopGroup group, Duration timeout) {
        return connect(hostPort, group, timeout, timeout);
    }

    /** Connects waiting at most {@code connectTimeout}; requests default to {@code requestTimeout}. */
    public static PeerClient connect(String hostPort, EventLoopGroup group, Duration connectTimeout, Duration requestTimeout) {
        return connect(hostPort, group, connectTimeout, requestTimeout, null);
    }

    /**
     * ... and, with {@code auth}, proves the cluster secret before it returns (the handshake
     * counts against {@code connectTimeout}); a refusal throws {@link SecretRefused}.
     */
    public static PeerClient connect(String hostPort, EventLoopGroup group, Duration connectTimeout, Duration requestTimeout,
                                     PeerAuth auth) {
        Duration timeout = requestTimeout;
        long started = System.nanoTime();
        AuthClientHandler handshake = auth == null ? null : new AuthClientHandler(auth);
        String[] hp = splitHostPort(hostPort);
        int port = Integer.parseInt(hp[1]);
        PeerClient[] holder = new PeerClient[1];
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(Transports.clientChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, Buffers.ALLOCATOR)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        // the requests a loop turn sends to one node (a batch of NBD writes) leave in one write(2)
                        ch.pipeline().addLast(new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true),
                                new PeerResponseDecoder(), PeerEncoder.INSTANCE);
                        if (handshake != null) {
                            ch.pipeline().addLast(handshake); // takes itself out once the node accepted our proof
                        }
                        ch.pipeline().addLast(new ResponseHandler(holder));
                    }
                });
        ChannelFuture f = b.connect(hp[0], port).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new KelpieException(Status.IO_ERROR, "cannot connect to node at " + hostPort + ": " + reason(f.cause()));
        }
        if (handshake != null) {
            awaitHandshake(handshake, f.channel(), hostPort, connectTimeout.toNanos() - (System.nanoTime() - started));
        }
        PeerClient client = new PeerClient(hostPort, f.channel(), timeout);
        holder[0] = client;
        if (!f.channel().isActive()) {
            client.failAll("connection closed");
        }
        return client;
    }

    private static void awaitHandshake(AuthClientHandler handshake, Channel channel, String hostPort, long nanos) {
        try {
            handshake.done().get(Math.max(nanos, 0), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            channel.close();
            throw new SecretRefused("cannot connect to node at " + hostPort + ": " + e.getCause().getMessage());
        } catch (java.util.concurrent.TimeoutException e) {
            channel.close();
            throw new KelpieException(Status.IO_ERROR, "cannot connect to node at " + hostPort
                    + ": no answer to the cluster secret handshake");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            channel.close();
            throw new KelpieException(Status.IO_ERROR, "interrupted while connecting to node at " + hostPort);
        }
    }

    /** "host:port" to {host, port}; "[v6]:port" accepted; a bare host gets the default port. */
    public static String[] splitHostPort(String hostPort) {
        String s = hostPort.trim();
        int colon = s.lastIndexOf(':');
        if (colon < 0 || (s.startsWith("[") && s.endsWith("]"))) {
            return new String[] {strip(s), String.valueOf(PeerConstants.DEFAULT_PORT)};
        }
        String host = strip(s.substring(0, colon));
        String port = s.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (host.isEmpty() || p < 1 || p > 65535) {
            throw new IllegalArgumentException("invalid address '" + hostPort + "' (expected HOST:PORT)");
        }
        return new String[] {host, port};
    }

    private static String strip(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** A short reason for a connect or bind failure, for messages. */
    public static String reason(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.net.UnknownHostException) {
                return "unknown host";
            }
            if (c instanceof ConnectException) {
                String m = String.valueOf(c.getMessage());
                if (m.contains("Connection refused")) {
                    return "Connection refused";
                }
                if (m.contains("timed out")) {
                    return "connection timed out";
                }
            }
        }
        return KelpieException.messageOf(t);
    }

    public String address() {
        return address;
    }

    /** False once the connection closed or was dropped: the pool then replaces it. */
    public boolean isActive() {
        return closedReason == null && channel.isActive();
    }

    /** Sends a request (ownership of it passes here) with the client's default timeout. */
    public CompletableFuture<PeerResponse> send(PeerRequest req) {
        return send(req, timeout);
    }

    /** Sends a request (ownership of it passes here); the future completes with its response. */
    public CompletableFuture<PeerResponse> send(PeerRequest req, Duration requestTimeout) {
        CompletableFuture<PeerResponse> f = new CompletableFuture<>();
        String closed = closedReason;
        if (closed != null) {
            req.release();
            f.completeExceptionally(lost(closed));
            return f;
        }
        long id = nextId.getAndIncrement();
        req.id(id);
        inFlight.put(id, f);
        channel.writeAndFlush(req).addListener(w -> {
            if (!w.isSuccess()) {
                fail(id, "sending " + PeerConstants.opcodeName(req.opcode()) + " failed: " + reason(w.cause()));
            }
        });
        if (!requestTimeout.isZero()) {
            int opcode = req.opcode();
            long sent = System.nanoTime();
            ScheduledFuture<?> timer = channel.eventLoop().schedule(() -> timedOut(id, opcode, sent, requestTimeout),
                    requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            // drop the timer as soon as the answer is in, so a busy connection does not pile them up
            f.whenComplete((r, err) -> timer.cancel(false));
        }
        if (closedReason != null) {
            // the channel closed between the check and put(): do not leave this future behind
            fail(id, closedReason);
        }
        return f;
    }

    /** Requests in flight, for tests and back-pressure. */
    public int inFlight() {
        return inFlight.size();
    }

    private void timedOut(long id, int opcode, long sent, Duration after) {
        String why = PeerConstants.opcodeName(opcode) + " timed out after " + after.toMillis() + " ms";
        fail(id, why);
        long last = lastReadNanos;
        if (last - sent < 0 && System.nanoTime() - last >= SILENT_CLOSE_NANOS) {
            failAll("no answer for " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - last) + " ms; connection dropped");
            channel.close();
        }
    }

    private void fail(long id, String why) {
        CompletableFuture<PeerResponse> f = inFlight.remove(id);
        if (f != null) {
            f.completeExceptionally(lost(why));
        }
    }

    private KelpieException lost(String why) {
        return new KelpieException(Status.IO_ERROR, "node " + address + ": " + why);
    }

    private void failAll(String why) {
        if (closedReason == null) {
            closedReason = why;
        }
        List<Long> ids = new ArrayList<>(inFlight.keySet());
        for (long id : ids) {
            fail(id, why);
        }
    }

    @Override
    public void close() {
        var closing = channel.close();
        if (!channel.eventLoop().inEventLoop()) {
            closing.awaitUninterruptibly(2000); // never on the channel's own loop: it does the closing
        }
        failAll("connection closed");
    }

    private static final class ResponseHandler extends ChannelInboundHandlerAdapter {
        private final PeerClient[] holder;
        private String error;

        ResponseHandler(PeerClient[] holder) {
            this.holder = holder;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            PeerClient c = holder[0];
            if (!(msg instanceof PeerResponse r) || c == null) {
                ReferenceCountUtil.release(msg);
                return;
            }
            c.lastReadNanos = System.nanoTime();
            CompletableFuture<PeerResponse> f = c.inFlight.remove(r.id());
            if (f == null || !f.complete(r)) {
                r.release(); // timed out or cancelled meanwhile
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            error = reason(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            PeerClient c = holder[0];
            if (c != null) {
                c.failAll(error != null ? "connection lost: " + error : "connection closed by the node");
            }
        }
    }
}
