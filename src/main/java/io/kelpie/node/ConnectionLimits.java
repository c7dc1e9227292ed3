package io.kelpie.node;

import io.kelpie.frontend.NbdServer;
import io.kelpie.nbd.NbdLimits;
import io.kelpie.peer.server.PeerServer;

/**
 * How many connections a node's ports keep open at once, and how long an NBD client may take to
 * choose an export ({@code node run --max-connections, --max-peer-connections, --handshake-timeout}).
 * Apart from {@link NodeOptions} so that a node started without them gets the defaults.
 *
 * @param maxConnections          NBD connections open at once; more are closed at accept
 * @param maxPeerConnections      peer/admin connections open at once (other nodes and the CLI)
 * @param handshakeTimeoutSeconds an NBD connection still negotiating after this long is closed
 */
public record ConnectionLimits(int maxConnections, int maxPeerConnections, int handshakeTimeoutSeconds) {
    public static final ConnectionLimits DEFAULT = new ConnectionLimits(NbdServer.DEFAULT_MAX_CONNECTIONS,
            PeerServer.DEFAULT_MAX_CONNECTIONS, NbdLimits.HANDSHAKE_TIMEOUT_SECONDS);

    public ConnectionLimits {
        if (maxConnections < 1 || maxPeerConnections < 1 || handshakeTimeoutSeconds < 1) {
            throw new IllegalArgumentException("connection limits and the handshake timeout must be at least 1");
        }
    }
}
