package io.kelpie.node;

import io.kelpie.cluster.ClusterDriver;
import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.Buffers;
import io.kelpie.common.ClusterSecret;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Transports;
import io.kelpie.config.ClusterConfig;
import io.kelpie.config.DataDir;
import io.kelpie.frontend.NbdServer;
import io.kelpie.gateway.ClusterView;
import io.kelpie.gateway.GatewayTimeouts;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.gateway.PeerPool;
import io.kelpie.gateway.ReplicatedGateway;
import io.kelpie.peer.PeerAuth;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.ops.PeerOps;
import io.kelpie.peer.server.PeerServer;
import io.kelpie.recovery.MemberQueries;
import io.kelpie.recovery.ObjectRecovery;
import io.kelpie.recovery.RecoveringGateway;
import io.kelpie.recovery.RecoveryThrottle;
import io.kelpie.recovery.RecoveryWorker;
import io.kelpie.recovery.StaleObjects;
import io.kelpie.scrub.Scrubber;
import io.kelpie.store.FileObjectStore;
import io.kelpie.store.HealthCheckedStore;
import io.kelpie.store.ObjectStore;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.LongFunction;
import java.util.function.LongToIntFunction;
import java.util.function.UnaryOperator;

/**
 * One Kelpie node: its data directory, object store, cluster membership, replicated gateway, VDIs
 * and network servers. Started by {@code kelpie node run}; tests start several in one JVM.
 *
 * <p>Every node is a cluster member, a lone one included: it joins the nodes of {@code --join}
 * over JGroups (on {@code --cluster-port}, by default the peer port + 1) or founds a cluster of
 * its own. A node started on port 0 (in-process tests) uses a private in-JVM driver instead.
 */
public final class Node implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Node.class);
    private static final long JOIN_TIMEOUT_MILLIS = 60_000;

    private final NodeOptions options;
    private final Function<Node, ClusterDriver> driverFactory;
    private final UnaryOperator<ObjectStore> storeWrapper;
    private ConnectionLimits limits = ConnectionLimits.DEFAULT;
    private final ByteBufAllocator alloc = Buffers.ALLOCATOR;
    private DataDir dataDir;
    private FencedStore store;
    private ExecutorService ioExecutor;
    private ExecutorService connectExecutor;
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private LocalGateway localGateway;
    private PeerPool peers;
    private ReplicatedGateway gateway;
    private ClusterManager cluster;
    private volatile ObjectRecovery recovery;
    private volatile RecoveryWorker recoveryWorker;
    private ExecutorService recoveryExecutor;
    private CatalogueApp app;
    private NodeInfo self;
    private final NodeConfig formatted = new NodeConfig(this::newVdis, this::wipeStore);
    private final NbdPart nbd = new NbdPart();
    private PeerServer peerServer;
    private final StoreFailure storeFailure = new StoreFailure();
    private volatile Scrubber scrubber;
    private boolean closed;
    private ClusterSecret secret;
    private final MetricsPart metrics = new MetricsPart();
    private long reserve = -1;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    public Node(NodeOptions options) {
        this(options, null);
    }

    /** A node whose cluster driver comes from {@code driverFactory} (tests: a shared {@code LocalHub}). */
    public Node(NodeOptions options, Function<Node, ClusterDriver> driverFactory) {
        this(options, driverFactory, UnaryOperator.identity());
    }

    /** ... whose file store is wrapped in {@code storeWrapper} under the health check (tests inject faults). */
    public Node(NodeOptions options, Function<Node, ClusterDriver> driverFactory,
                UnaryOperator<ObjectStore> storeWrapper) {
        this.options = options;
        this.driverFactory = driverFactory;
        this.storeWrapper = storeWrapper;
    }

    /** Replaces the default connection limits; before {@link #start()}. */
    public Node limits(ConnectionLimits limits) {
        this.limits = limits;
        return this;
    }

    /** NBD over TLS (node run --tls); set before {@link #start}. */
    public Node nbdTls(io.kelpie.nbd.NbdTls tls) {
        nbd.tls(tls);
        return this;
    }

    /** Serve NBD on this listening socket (from systemd's socket activation) instead of binding the NBD port. */
    public Node nbdSocket(int fd) {
        nbd.socket(fd);
        return this;
    }

    /** With a secret (before {@link #start}): joins only a cluster that has it, seals membership traffic, and serves only peers that prove it. */
    public Node clusterSecret(ClusterSecret s) {
        this.secret = s;
        return this;
    }

    /** {@code node run --metrics}: serve Prometheus text at http://ADDRESS/metrics; set before {@link #start}. */
    public Node metrics(java.net.InetSocketAddress address) {
        metrics.at(address);
        return this;
    }

    /** Where /metrics is served (the bound port when asked for port 0); null without metrics. */
    public java.net.InetSocketAddress metricsAddress() {
        return metrics.address();
    }

    /** Bytes of the data file system data writes leave free for metadata (node run --reserve); -1: the default. */
    public Node reserve(long bytes) {
        this.reserve = bytes;
        return this;
    }

    public NodeOptions options() {
        return options;
    }

    public ByteBufAllocator alloc() {
        return alloc;
    }

    public ObjectStore store() {
        return store;
    }

    public EventLoopGroup bossGroup() {
        return bossGroup;
    }

    public EventLoopGroup workerGroup() {
        return workerGroup;
    }

    public ExecutorService ioExecutor() {
        return ioExecutor;
    }

    public DataDir dataDir() {
        return dataDir;
    }

    /** The NBD server, null when the NBD port is 0. */
    public NbdServer nbdServer() {
        return nbd.server();
    }

    public ClusterManager cluster() {
        return cluster;
    }

    /** On-demand recovery and repair of objects this node should hold; null until the node has started. */
    public ObjectRecovery recovery() {
        return recovery;
    }

    /** Background recovery and its progress; null until the node has started. */
    public RecoveryWorker recoveryWorker() {
        return recoveryWorker;
    }

    /** Repairs this node's copy of an object from the best other replica (scrubber, corrupt local reads). */
    public LongFunction<CompletableFuture<Void>> repairHook() {
        return oid -> recovery.repair(oid).thenApply(copied -> null);
    }

    public PeerPool peers() {
        return peers;
    }

    /**
     * Completes, after the node has left the cluster and stopped, with the reason its object store
     * failed as a whole (read-only, gone, failing); {@code node run} then exits non-zero.
     */
    public CompletableFuture<String> storeFailure() {
        return storeFailure.future();
    }

    /** The background scrub (its counters for {@code node info}); null until the node has started. */
    public Scrubber scrubber() {
        return scrubber;
    }

    /** Opens the data directory and store, joins (or founds) the cluster and starts the servers. */
    public synchronized Node start() throws IOException {
        dataDir = DataDir.open(options.dir());
        try {
            // Store I/O errors: disable the object, or leave the cluster when the whole store fails.
            // The fence outermost: a format's wipe holds off every caller, the health check included.
            io.kelpie.store.SpaceReserve kept = io.kelpie.store.SpaceReserve.on(dataDir.root(), reserve);
            log.info("data directory {}: {} for metadata", options.dir(), kept);
            store = new FencedStore(storeWrapper.apply(new HealthCheckedStore(new FileObjectStore(dataDir.objects(), 4096, kept),
                    dataDir.objects(), reason -> storeFailure.failed(reason, this::close))));
            StaleObjects.migrate(store, dataDir.resolve("stale"));
            ioExecutor = Executors.newFixedThreadPool(options.ioThreads(), Threads.named("kelpie-io"));
            connectExecutor = Executors.newCachedThreadPool(Threads.named("kelpie-connect"));
            bossGroup = Transports.group(1);
            workerGroup = Transports.group(Math.max(2, Runtime.getRuntime().availableProcessors()));
            localGateway = new LocalGateway(store, ioExecutor, alloc);
            PeerAuth auth = secret == null ? null : new PeerAuth(secret);
            io.kelpie.metrics.NodeMetrics recorders = metrics.open(alloc);
            peerServer = PeerServer.start(options.bind(), options.port(), bossGroup, workerGroup,
                    PeerOps.all(PeerServices.of(this)), this::epoch, ioExecutor, limits.maxPeerConnections(), auth, recorders.peer());
            self = NodeIdentity.of(dataDir, options, peerServer.port());
            ClusterDriver driver = driverFactory != null ? driverFactory.apply(this) : JoinDiscovery.driver(options, workerGroup, self.id(), secret);
            app = new CatalogueApp(this);
            cluster = new ClusterManager(dataDir, driver, self, app);
            // 'kelpie cluster shutdown': every node stops cleanly (it runs on a thread of its own).
            cluster.onShutdown(this::close);
            peers = new PeerPool(workerGroup, connectExecutor, PeerClient.DEFAULT_TIMEOUT, auth);
            LongToIntFunction copiesOf = oid -> {
                VdiManager v = formatted.current();
                return v == null ? 0 : v.copiesOf(ObjectIds.vid(oid));
            };
            // Recovery installs on its own threads, so it never queues ahead of client I/O.
            recoveryExecutor = Executors.newFixedThreadPool(RecoveryWorker.PARALLEL, Threads.named("kelpie-recovery-io"));
            recovery = new ObjectRecovery(cluster, store, peers, ioExecutor, recoveryExecutor, copiesOf);
            recoveryWorker = new RecoveryWorker(cluster, store, recovery, new MemberQueries(peers, store), copiesOf,
                    new RecoveryThrottle(options.recoveryRate()));
            gateway = new ReplicatedGateway(ClusterView.of(cluster), new RecoveringGateway(localGateway, recovery),
                    peers, ioExecutor, repairHook(), GatewayTimeouts.DEFAULT);
            ClusterConfig c = cluster.config();
            if (c != null) {
                formatted.install(c, false);
                app.load(c, localGateway, store);
            }
            try {
                cluster.start(JOIN_TIMEOUT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while joining the cluster");
            }
            nbd.start(options, limits, bossGroup, workerGroup, alloc, formatted::current, recorders.nbd());
            metrics.serve(this);
            scrubber = new Scrubber(store, options.scrubRate()).repairWith(repairHook()).start();
            log.info("node {} started: data {}, {}, epoch {}, {} member(s), {} vnodes, transport {}{}", self, options.dir(),
                    formatted.formatted() ? "cluster " + formatted.config().clusterId() : "not formatted", cluster.epochNumber(),
                    cluster.members().size(), self.vnodes(), Transports.epoll() ? "epoll" : "nio",
                    secret != null ? ", " + secret : "");
            return this;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Called in cluster order: a fresh format wipes this node's objects; adopting a config keeps them. */
    void installConfig(ClusterConfig c, boolean fresh) throws IOException {
        formatted.install(c, fresh);
    }

    private VdiManager newVdis(ClusterConfig c) {
        VdiManager m = new VdiManager(gateway, alloc, c.copies(), c.blockSizeShift());
        m.ordering(op -> NodeConfig.ordered(cluster, op));
        m.self(self.toString());
        return m;
    }

    /** On the ordered cluster thread: raises the store's fence at once and leaves the removals to its own thread. */
    private void wipeStore() {
        store.wipe();
    }

    /** The cluster config; fails with NOT_FORMATTED before {@code cluster format}. */
    public ClusterConfig config() {
        return formatted.config();
    }

    public boolean formatted() {
        return formatted.formatted();
    }

    /** The VDIs; fails with NOT_FORMATTED before {@code cluster format}. */
    public VdiManager vdis() {
        return formatted.vdis();
    }

    /**
     * Formats the whole cluster (every member wipes its objects). Refused on a formatted cluster
     * unless {@code force}.
     */
    public ClusterConfig format(int copies, boolean force) throws IOException {
        return format(copies, 0, force);
    }

    /**
     * {@link #format(int, boolean)} with the fewest copies a write may be acknowledged with
     * ({@code minCopies} 0: a majority of {@code copies}).
     */
    public ClusterConfig format(int copies, int minCopies, boolean force) throws IOException {
        return NodeConfig.format(cluster, copies, minCopies, force);
    }

    /** The port the peer server listens on (the bound one when {@code --port 0}). */
    public int peerPort() {
        return peerServer != null ? peerServer.port() : options.port();
    }

    /** This node as the cluster sees it. */
    public NodeInfo selfInfo() {
        return self;
    }

    /** The current epoch: 0 before format (or before this node joined). */
    public long epoch() {
        ClusterManager c = cluster;
        return c == null ? 0 : c.epochNumber();
    }

    /** The members with their vnodes and capacity. */
    public List<NodeInfo> memberInfos() {
        return cluster.members();
    }

    /** HOST:PORT of the nodes holding an object in the current epoch. */
    public List<String> holders(long oid, int copies) {
        return gateway.replicas(oid, copies).stream().map(NodeInfo::address).toList();
    }

    /** Completes once the node has stopped (closed, or stopped by a cluster shutdown). */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Closer.inOrder(
                metrics, // first of all: no scrape reads a node half closed
                nbd, // first: connections release their VDI handles
                recoveryWorker,
                cluster, // leave before the peer port goes, so others stop sending here
                app, // the catalogue's last state reaches the disk
                peerServer,
                formatted,
                peers,
                Threads.interrupting(recoveryExecutor, 5),
                scrubber,
                Threads.stopping(bossGroup),
                Threads.stopping(workerGroup),
                Threads.interrupting(connectExecutor, 0),
                Threads.draining(ioExecutor, 10)); // writes in flight land before the store closes
        peerServer = null;
        try {
            if (store != null) {
                store.close();
            }
        } catch (IOException e) {
            log.error("flushing the object store failed: {}", e.getMessage());
        }
        try {
            if (dataDir != null) {
                dataDir.close();
            }
        } catch (IOException e) {
            log.warn("releasing the data directory lock failed: {}", e.getMessage());
        }
        log.info("node stopped");
        // The failure first: whoever waits for stopped() must already see why the node stopped.
        storeFailure.publish();
        stopped.complete(null);
    }
}
