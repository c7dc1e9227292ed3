package io.kelpie.frontend;

import io.netty.channel.Channel;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;

/**
 * When a large read goes out from the object's file by sendfile(2) instead of copied through a
 * buffer ({@code -Dkelpie.fileReads}, read per connection). Never under TLS, which encrypts buffers.
 *
 * <p>Sent from the file, the node saves a copy, but a client on this host then copies the pages
 * out of the socket itself, from memory, where a copy into the socket had left them in the cache
 * it reads from: read1m qd8 over loopback measured 987-1170 IOPS from the file, 1324-1746 copied.
 * A client on another host is fed by the NIC, which reads the page cache as well as a buffer.
 */
enum FileReads {
    /** To clients on other hosts (the default). */
    REMOTE,
    ALWAYS,
    NEVER;

    static final String PROPERTY = "kelpie.fileReads";

    static FileReads configured() {
        String v = System.getProperty(PROPERTY, "remote");
        try {
            return valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            LoggerFactory.getLogger(FileReads.class).warn("-D{}={}: not remote, always or never; using remote", PROPERTY, v);
            return REMOTE;
        }
    }

    boolean fromFile(boolean tls, Channel ch) {
        return !tls && (this == ALWAYS || this == REMOTE && !isLocal(ch.remoteAddress(), ch.localAddress()));
    }

    /**
     * Whether the client runs on this host: it connected over loopback, or from the address it
     * connected to (what a host sends itself goes over loopback whatever the address).
     */
    static boolean isLocal(SocketAddress remote, SocketAddress local) {
        if (!(remote instanceof InetSocketAddress r) || r.getAddress() == null) {
            return false;
        }
        return r.getAddress().isLoopbackAddress()
                || local instanceof InetSocketAddress l && r.getAddress().equals(l.getAddress());
    }
}
