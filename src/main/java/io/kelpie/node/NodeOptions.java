package io.kelpie.node;

import java.nio.file.Path;
import java.util.List;

/**
 * How a node process is started ({@code kelpie node run}).
 *
 * @param port        the peer/admin port (node-to-node protocol and CLI)
 * @param nbdPort     the NBD server port, 0 to disable
 * @param join        peer addresses (HOST:PORT) of nodes to join, empty for a cluster of one
 * @param clusterPort membership (JGroups) port, 0 for {@code port + 1}
 * @param weight      relative capacity, 0 for one derived from disk space
 * @param recoveryRate background recovery's limit in bytes per second, 0 for unlimited
 */
public record NodeOptions(Path dir, String bind, int port, int nbdPort, List<String> join, String zone,
                          long weight, int clusterPort, int ioThreads, long recoveryRate) {

    public NodeOptions(Path dir, String bind, int port, int nbdPort, List<String> join, String zone,
                       long weight, int clusterPort, int ioThreads) {
        this(dir, bind, port, nbdPort, join, zone, weight, clusterPort, ioThreads, 0);
    }

    public static NodeOptions defaults(Path dir) {
        return new NodeOptions(dir, "127.0.0.1", 7000, 10809, List.of(), null, 0, 0, 16);
    }

    public NodeOptions withRecoveryRate(long bytesPerSecond) {
        return new NodeOptions(dir, bind, port, nbdPort, join, zone, weight, clusterPort, ioThreads, bytesPerSecond);
    }

    public int effectiveClusterPort() {
        return clusterPort > 0 ? clusterPort : port + 1;
    }

    public String address() {
        return bind + ":" + port;
    }
}
