package io.kelpie.node;

import io.kelpie.frontend.NbdServer;
import io.kelpie.metrics.NbdMetrics;
import io.kelpie.nbd.NbdTls;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;

import java.io.IOException;
import java.util.function.Supplier;

/**
 * The node's NBD front end: its TLS ({@code node run --tls}), where it listens (the NBD port, or
 * the socket systemd passed, see {@code kelpie-nbd.socket}), and the server once started.
 */
final class NbdPart implements AutoCloseable {
    private NbdTls tls = NbdTls.OFF;
    private int socket = -1;
    private NbdServer server;

    void tls(NbdTls tls) {
        this.tls = tls;
    }

    void socket(int fd) {
        this.socket = fd;
    }

    /** Starts the server unless there is neither a socket nor a port (--nbd-port 0). */
    void start(NodeOptions options, ConnectionLimits limits, EventLoopGroup boss, EventLoopGroup workers,
               ByteBufAllocator alloc, Supplier<VdiManager> vdis, NbdMetrics metrics) throws IOException {
        if (socket >= 0 || options.nbdPort() > 0) {
            server = NbdServer.listen(options.bind(), options.nbdPort(), socket, boss, workers, alloc, vdis,
                    limits.maxConnections(), limits.handshakeTimeoutSeconds() * 1000L, tls, metrics);
        }
    }

    /** Null before the start, after the close, and with NBD off. */
    NbdServer server() {
        return server;
    }

    @Override
    public void close() {
        NbdServer s = server;
        server = null;
        if (s != null) {
            s.close();
        }
    }
}
