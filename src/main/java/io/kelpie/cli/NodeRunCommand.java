package io.kelpie.cli;

import io.kelpie.frontend.NbdServer;
import io.kelpie.nbd.NbdLimits;
import io.kelpie.node.ConnectionLimits;
import io.kelpie.common.ClusterSecret;
import io.kelpie.node.Node;
import io.kelpie.node.NodeOptions;
import io.kelpie.peer.server.PeerServer;
import io.kelpie.systemd.SdListenFds;
import io.kelpie.systemd.SdNotify;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a node in the foreground, logging to stderr, until SIGTERM or SIGINT.",
                "A new data directory is created unformatted: run 'kelpie cluster format' once."},
        footer = {"", "Store I/O errors: an object whose reads or writes fail here is disabled (served by the other",
                "replicas until 'cluster check' or recovery replaces it); when the whole data directory fails",
                "(read-only, removed, failing disk) the node leaves the cluster and exits with status 6.",
                "", "Under systemd: with $NOTIFY_SOCKET (Type=notify) the node reports READY=1 once it serves, its status,",
                "STOPPING=1, and watchdog pings while its store is healthy (WatchdogSec=). Started by kelpie-nbd.socket",
                "(LISTEN_FDS, FileDescriptorName=nbd) it serves NBD on that socket and ignores --nbd-port.",
                "", "A full disk: writes get ENOSPC, reads go on; a VDI's delete frees space (see --reserve)."})
final class NodeRunCommand implements Callable<Integer> {
    /** Exit status when the node left the cluster because its object store failed. */
    static final int STORE_FAILED = 6;

    @Option(names = "--dir", required = true, description = "Data directory (config, objects, epoch log).")
    Path dir;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--port", defaultValue = "7000", description = "Peer and admin port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--nbd-port", defaultValue = "10809", description = "NBD server port, 0 to disable (default: ${DEFAULT-VALUE}).")
    int nbdPort;

    @Option(names = "--join", split = ",", paramLabel = "HOST:PORT",
            description = "Peer addresses of nodes of the cluster to join; none for a cluster of one.")
    List<String> join = List.of();

    @Option(names = "--zone", description = "Failure zone; replicas go to distinct zones (default: the node's own).")
    String zone;

    @Option(names = "--weight", defaultValue = "0", description = "Share of the ring: the number of virtual nodes (default: 128 per 16 GiB of disk, at least 128).")
    long weight;

    @Option(names = "--cluster-port", defaultValue = "0", description = "Membership port (default: --port + 1).")
    int clusterPort;

    @Option(names = "--format-if-new",
            description = "Format the node as a new one-node cluster if its data directory was never formatted.")
    boolean formatIfNew;

    @Option(names = "--copies", defaultValue = "1",
            description = "Default copies when --format-if-new formats (default: ${DEFAULT-VALUE}).")
    int copies;

    @Option(names = "--io-threads", defaultValue = "16", description = "Threads for disk I/O (default: ${DEFAULT-VALUE}).")
    int ioThreads;

    @Option(names = "--scrub-rate", defaultValue = "4M", converter = SizeConverter.class, paramLabel = "BYTES/s",
            description = {"Bytes per second the background scrub reads to verify every object's checksums "
                    + "and repair bit rot; 0 disables it (default: ${DEFAULT-VALUE}/s)."})
    long scrubRate;

    @Option(names = "--recovery-rate", defaultValue = "0", paramLabel = "BYTES/s", converter = SizeConverter.class,
            description = "Limit background recovery to this many bytes per second (K, M, G suffixes); "
                    + "0, the default, is unlimited (it still runs on its own threads, behind client I/O).")
    long recoveryRate;

    @Option(names = "--reserve", paramLabel = "BYTES", converter = SizeConverter.class,
            description = "Space on the data file system that data writes leave free, so that a full disk can still "
                    + "be emptied: a VDI's delete, inode and catalogue writes and the epoch log fit in it (K, M, G "
                    + "suffixes; default: 2%% of the file system, at least 4M, at most 64M; 0: none).")
    Long reserve;

    @Option(names = "--max-connections", defaultValue = "" + NbdServer.DEFAULT_MAX_CONNECTIONS, paramLabel = "N",
            description = "NBD connections open at once; more are closed as soon as they are accepted "
                    + "(default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--max-peer-connections", defaultValue = "" + PeerServer.DEFAULT_MAX_CONNECTIONS, paramLabel = "N",
            description = "Peer and admin connections open at once; every other node keeps one per event "
                    + "loop of its own (default: ${DEFAULT-VALUE}).")
    int maxPeerConnections;

    @Option(names = "--handshake-timeout", defaultValue = "" + NbdLimits.HANDSHAKE_TIMEOUT_SECONDS, paramLabel = "SECONDS",
            description = "An NBD client that has not chosen an export this long after connecting is "
                    + "disconnected (default: ${DEFAULT-VALUE}).")
    int handshakeTimeout;

    @Option(names = "--tls", defaultValue = "off", paramLabel = "off|on|require",
            description = "NBD over TLS (NBD_OPT_STARTTLS, nbds:// URIs): 'on' offers it and still serves plaintext, "
                    + "'require' refuses every option but STARTTLS until the client upgraded, so nothing is listed "
                    + "or served in plaintext (default: ${DEFAULT-VALUE}). JDK TLS 1.2/1.3.")
    String tls;

    @Option(names = "--tls-certificates", paramLabel = "DIR",
            description = "Directory with server-cert.pem, server-key.pem (PKCS#8, or the RSA/EC key openssl or "
                    + "certtool write) and ca-cert.pem: the layout of nbdkit's and qemu's x509 credentials.")
    Path tlsCertificates;

    @Option(names = "--tls-verify-peer",
            description = "Require a client certificate signed by DIR/ca-cert.pem; its CN is the client's name "
                    + "for VDI access lists ('kelpie vdi acl NAME allow cn:NAME').")
    boolean tlsVerifyPeer;
    @Option(names = "--cluster-secret", paramLabel = "FILE",
            description = {"Authenticate the cluster with the secret in FILE (mode 0600, the same file on every node): "
                    + "only nodes with it join, membership traffic is encrypted, and peer and admin connections "
                    + "must prove it (default: $" + ClusterSecret.ENV + "; neither: no secret)."})
    Path secretFile;

    @Option(names = "--metrics", paramLabel = "HOST:PORT",
            description = {"Serve Prometheus metrics at http://HOST:PORT/metrics (per VDI and NBD command: requests, "
                    + "bytes, latency histograms; peer requests; recovery progress; store space; JVM and direct "
                    + "memory). Off by default; bind it where only your Prometheus can reach it."})
    String metrics;

    @Override
    public Integer call() throws Exception {
        if (scrubRate < 0 || recoveryRate < 0 || (reserve != null && reserve < 0)) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--scrub-rate, --recovery-rate and --reserve must be 0 or more");
        }
        NodeOptions options = new NodeOptions(dir, bind, port, nbdPort, join, zone, weight, clusterPort, ioThreads,
                scrubRate, recoveryRate);
        if (maxConnections < 1 || maxPeerConnections < 1 || handshakeTimeout < 1) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--max-connections, --max-peer-connections and --handshake-timeout must be at least 1");
        }
        if (formatIfNew && !join.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--format-if-new starts a new cluster and cannot be combined with --join");
        }
        java.net.InetSocketAddress metricsAt = null;
        if (metrics != null) {
            try {
                metricsAt = io.kelpie.metrics.MetricsAddress.parse(metrics);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), e.getMessage());
            }
        }
        ClusterSecret secret = ClusterSecret.fromOptionOrEnv(secretFile); // a bad file stops us before any port opens
        io.kelpie.nbd.NbdTls nbdTls = io.kelpie.frontend.NbdTlsCredentials.load(tlsMode(), tlsCertificates, tlsVerifyPeer);
        OptionalInt nbdSocket = systemdNbdSocket();
        Node node = new Node(options).limits(new ConnectionLimits(maxConnections, maxPeerConnections, handshakeTimeout))
                .nbdTls(nbdTls).clusterSecret(secret).metrics(metricsAt).nbdSocket(nbdSocket.orElse(-1)).reserve(reserve == null ? -1 : reserve).start();
        if (formatIfNew && !node.formatted()) {
            node.format(copies, false);
        }
        String failure;
        try (SdNotify systemd = SdNotify.fromEnvironment()) {
            // 'kelpie cluster shutdown' (which closes the node itself): exit 0; Ctrl-C / SIGTERM: the JVM's 130 / 143.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                systemd.stopping("stopping: flushing objects and leaving the cluster");
                node.close();
            }, "kelpie-shutdown"));
            systemd.ready(serving(node));
            systemd.watchdog(() -> node.storeFailure().getNow(null) == null && !node.stopped().isDone());
            node.stopped().join(); // a failed store also ends here, with storeFailure() completed first
            failure = node.storeFailure().getNow(null);
            systemd.stopping(failure == null ? "stopped" : "object store failed: " + failure);
        }
        if (failure != null) {
            System.err.println("kelpie: node left the cluster: its object store failed: " + failure);
            return STORE_FAILED;
        }
        return 0;
    }

    /** For {@code systemctl status}: what the node serves once it is up. */
    private static String serving(Node node) {
        String nbd = node.nbdServer() == null ? "no NBD" : "NBD on port " + node.nbdServer().port();
        return "serving " + nbd + ", peers on port " + node.peerPort() + ", epoch " + node.epoch() + ", "
                + node.memberInfos().size() + " member(s)" + (node.formatted() ? "" : ", not formatted");
    }

    /** The NBD socket from kelpie-nbd.socket (FileDescriptorName=nbd), if systemd started us with one. */
    private OptionalInt systemdNbdSocket() {
        SdListenFds fds;
        try {
            fds = SdListenFds.fromEnvironment();
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "socket activation: " + e.getMessage());
        }
        OptionalInt fd = fds.find("nbd");
        if (fds.count() > 0 && fd.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "systemd passed "
                    + fds.count() + " sockets " + fds.names() + " and none is named 'nbd' (FileDescriptorName=nbd)");
        }
        if (fd.isPresent() && !SdListenFds.kind(fd.getAsInt()).equals("tcp")) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "the socket systemd passed for NBD (fd "
                    + fd.getAsInt() + ") is " + SdListenFds.kind(fd.getAsInt()) + ", not a listening TCP socket: "
                    + "kelpie-nbd.socket needs ListenStream=[ADDRESS:]PORT");
        }
        return fd;
    }

    private io.kelpie.nbd.NbdTls.Mode tlsMode() {
        return switch (tls.toLowerCase(java.util.Locale.ROOT)) {
            case "off" -> io.kelpie.nbd.NbdTls.Mode.OFF;
            case "on" -> io.kelpie.nbd.NbdTls.Mode.ON;
            case "require" -> io.kelpie.nbd.NbdTls.Mode.REQUIRE;
            default -> throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--tls takes off, on or require, not '" + tls + "'");
        };
    }
}
