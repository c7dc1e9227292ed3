package io.kelpie.nbd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Who is asking for an export, as the handshake knows it: the connection's remote address,
 * whether it upgraded to TLS, and the common name of the client certificate that the TLS
 * handshake verified (null without TLS, or when the server does not ask for certificates).
 */
public record NbdClient(SocketAddress remote, boolean tls, String commonName) {
    /** The client's IP address, null when the channel has none (in-process tests). */
    public InetAddress address() {
        return remote instanceof InetSocketAddress a ? a.getAddress() : null;
    }

    @Override
    public String toString() {
        return remote + (commonName != null ? " (cn " + commonName + ")" : "") + (tls ? ", TLS" : "");
    }
}
