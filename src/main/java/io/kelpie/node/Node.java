package io.kelpie.node;

import io.kelpie.cluster.ClusterDriver;
import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.JGroupsDriver;
import io.kelpie.cluster.LocalHub;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.config.DataDir;
import io.kelpie.common.Transports;
import io.kelpie.frontend.NbdServer;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.gateway.PeerPool;
import io.kelpie.gateway.ReplicatedGateway;
import io.kelpie.peer.AdminMessages;
import io.kelpie.recovery.MemberQueries;
import io.kelpie.recovery.ObjectRecovery;
import io.kelpie.recovery.RecoveringGateway;
import io.kelpie.recovery.RecoveryThrottle;
import io.kelpie.recovery.RecoveryWorker;
import io.kelpie.recovery.StaleObjects;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.WireReader;
import java.time.Duration;
import io.kelpie.peer.ops.PeerOps;
import io.kelpie.peer.server.PeerServer;
import io.kelpie.scrub.Scrubber;
import io.kelpie.store.FileObjectStore;
import io.kelpie.store.ObjectStore;
import io.kelpie.vdi.Inode;
import io.kelpie.common.ObjectIds;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

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
    static final String NODE_ID = "node.id";
    private static final long JOIN_TIMEOUT_MILLIS = 60_000;

    private final NodeOptions options;
    private final Function<Node, ClusterDriver> driverFactory;
    private final java.util.function.UnaryOperator<ObjectStore> storeWrapper;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private DataDir dataDir;
    private ObjectStore store;
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
    private volatile ClusterConfig config;
    private volatile VdiManager vdis;
    private NbdServer nbdServer;
    private final Object configLock = new Object();
    private PeerServer peerServer;
    private final java.util.concurrent.CompletableFuture<String> storeFailure = new java.util.concurrent.CompletableFuture<>();
    private volatile String storeFailureReason;
    private volatile Scrubber scrubber;
    private boolean closed;
    private final java.util.concurrent.CompletableFuture<Void> stopped = new java.util.concurrent.CompletableFuture<>();

    public Node(NodeOptions options) {
        this(options, null);
    }

    /** A node whose cluster driver comes from {@code driverFactory} (tests: a shared {@link LocalHub}). */
    public Node(NodeOptions options, Function<Node, ClusterDriver> driverFactory) {
        this(options, driverFactory, java.util.function.UnaryOperator.identity());
    }

    /** ... whose file store is wrapped in {@code storeWrapper} under the health check (tests inject faults). */
    public Node(NodeOptions options, Function<Node, ClusterDriver> driverFactory,
                java.util.function.UnaryOperator<ObjectStore> storeWrapper) {
        this.options = options;
        this.driverFactory = driverFactory;
        this.storeWrapper = storeWrapper;
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
        return nbdServer;
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
    public java.util.function.LongFunction<java.util.concurrent.CompletableFuture<Void>> repairHook() {
        return oid -> recovery.repair(oid).thenApply(copied -> null);
    }

    public PeerPool peers() {
        return peers;
    }

    /**
     * Completes, after the node has left the cluster and stopped, with the reason its object store
     * failed as a whole (read-only, gone, failing); {@code node run} then exits non-zero.
     */
    public java.util.concurrent.CompletableFuture<String> storeFailure() {
        return storeFailure;
    }

    /** The background scrub (its counters for {@code node info}); null until the node has started. */
    public Scrubber scrubber() {
        return scrubber;
    }

    /** The store failed as a whole: leave (others recover its objects) on a thread of its own, never the failing I/O thread. */
    private void storeFailed(String reason) {
        log.error("leaving the cluster: the object store failed: {}", reason);
        storeFailureReason = reason;
        Thread t = new Thread(this::close, "kelpie-store-failed");
        t.setDaemon(false);
        t.start();
    }

    /** Opens the data directory and store, joins (or founds) the cluster and starts the servers. */
    public synchronized Node start() throws IOException {
        dataDir = DataDir.open(options.dir());
        try {
            // Store I/O errors: disable the object, or leave the cluster when the whole store fails.
            store = storeWrapper.apply(new io.kelpie.store.HealthCheckedStore(new FileObjectStore(dataDir.objects()),
                    dataDir.objects(), this::storeFailed));
            StaleObjects.migrate(store, dataDir.resolve("stale"));
            ioExecutor = Executors.newFixedThreadPool(options.ioThreads(), threads("kelpie-io"));
            connectExecutor = Executors.newCachedThreadPool(threads("kelpie-connect"));
            bossGroup = Transports.group(1);
            workerGroup = Transports.group(Math.max(2, Runtime.getRuntime().availableProcessors()));
            localGateway = new LocalGateway(store, ioExecutor, alloc);
            peerServer = PeerServer.start(options.bind(), options.port(), bossGroup, workerGroup,
                    PeerOps.all(PeerServices.of(this)), this::epoch, ioExecutor);
            long capacity = Files.getFileStore(options.dir()).getTotalSpace();
            int vnodes;
            try {
                vnodes = NodeInfo.vnodesFor(options.weight(), capacity);
            } catch (IllegalArgumentException e) {
                throw new KelpieException(Status.INVALID, e.getMessage());
            }
            self = new NodeInfo(nodeId(), options.bind(), peerServer.port(), options.zone(), vnodes, capacity);
            ClusterDriver driver = driverFactory != null ? driverFactory.apply(this) : defaultDriver();
            app = new CatalogueApp(this);
            cluster = new ClusterManager(dataDir, driver, self, app);
            // 'kelpie cluster shutdown': every node stops cleanly (it runs on a thread of its own).
            cluster.onShutdown(this::close);
            peers = new PeerPool(workerGroup, connectExecutor, PeerClient.DEFAULT_TIMEOUT);
            java.util.function.LongToIntFunction copiesOf = oid -> {
                VdiManager v = vdis;
                return v == null ? 0 : v.copiesOf(ObjectIds.vid(oid));
            };
            // Recovery installs on its own threads, so it never queues ahead of client I/O.
            recoveryExecutor = Executors.newFixedThreadPool(RecoveryWorker.PARALLEL, threads("kelpie-recovery-io"));
            recovery = new ObjectRecovery(cluster, store, peers, ioExecutor, recoveryExecutor, copiesOf);
            recoveryWorker = new RecoveryWorker(cluster, store, recovery, new MemberQueries(peers, store), copiesOf,
                    new RecoveryThrottle(options.recoveryRate()));
            gateway = new ReplicatedGateway(io.kelpie.gateway.ClusterView.of(cluster), new RecoveringGateway(localGateway, recovery),
                    peers, ioExecutor, repairHook(), io.kelpie.gateway.GatewayTimeouts.DEFAULT);
            ClusterConfig c = cluster.config();
            if (c != null) {
                installConfig(c, false);
                loadCatalogue(c);
            }
            try {
                cluster.start(JOIN_TIMEOUT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while joining the cluster");
            }
            if (options.nbdPort() > 0) {
                nbdServer = NbdServer.start(options.bind(), options.nbdPort(), bossGroup, workerGroup, alloc, () -> vdis);
            }
            scrubber = new Scrubber(store, options.scrubRate()).repairWith(repairHook()).start();
            log.info("node {} started: data {}, {}, epoch {}, {} member(s), {} vnodes, transport {}", self, options.dir(),
                    config == null ? "not formatted" : "cluster " + config.clusterId(), cluster.epochNumber(),
                    cluster.members().size(), vnodes, Transports.epoll() ? "epoll" : "nio");
            return this;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private ClusterDriver defaultDriver() {
        if (options.port() == 0 && options.clusterPort() == 0) {
            if (!options.join().isEmpty()) {
                throw new KelpieException(Status.INVALID, "--join needs a fixed --port (or --cluster-port)");
            }
            return new LocalHub().newDriver();
        }
        List<InetSocketAddress> hosts = new ArrayList<>();
        for (String hp : discoverMembers(options.join())) {
            String[] parts = PeerClient.splitHostPort(hp);
            // Peers listen for membership on their peer port + 1, as this node does by default.
            InetSocketAddress a = new InetSocketAddress(parts[0], Integer.parseInt(parts[1]) + 1);
            if (!hosts.contains(a)) {
                hosts.add(a);
            }
        }
        return new JGroupsDriver(options.bind(), options.effectiveClusterPort(), hosts, self.id());
    }

    /**
     * The --join addresses plus every member they report: JGroups discovery must reach the
     * coordinator itself (which must learn this node's address), and --join may name any member.
     */
    private List<String> discoverMembers(List<String> join) {
        List<String> all = new ArrayList<>(join);
        for (String hp : join) {
            try (PeerClient c = PeerClient.connect(hp, workerGroup, Duration.ofSeconds(3))) {
                PeerResponse r = c.send(PeerRequest.of(PeerConstants.NODE_LIST, 0, 0, 0, 0, 0), Duration.ofSeconds(10)).join();
                try {
                    if (r.ok()) {
                        WireReader w = new WireReader(r.payload());
                        int n = AdminMessages.count(w);
                        for (int i = 0; i < n; i++) {
                            String a = AdminMessages.MemberInfo.read(w).address();
                            if (!all.contains(a)) {
                                all.add(a);
                            }
                        }
                        return all;
                    }
                } finally {
                    r.release();
                }
            } catch (RuntimeException e) {
                log.debug("asking {} for the cluster's members failed: {}", hp, KelpieException.messageOf(e));
            }
        }
        return all;
    }

    /** The node's stable id, made once per data directory. */
    private String nodeId() throws IOException {
        Path p = dataDir.resolve(NODE_ID);
        if (Files.exists(p)) {
            String id = Files.readString(p, StandardCharsets.UTF_8).trim();
            if (!id.isEmpty()) {
                return id;
            }
        }
        byte[] b = new byte[4];
        ThreadLocalRandom.current().nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        dataDir.writeAtomically(NODE_ID, out -> out.write((id + "\n").getBytes(StandardCharsets.UTF_8)));
        return id;
    }

    /** Loads the saved catalogue; a directory from before the cluster layer scans its inode objects. */
    private void loadCatalogue(ClusterConfig c) throws IOException {
        Path p = dataDir.resolve(CatalogueApp.CATALOGUE);
        if (Files.exists(p)) {
            vdis.restore(Files.readAllBytes(p));
            return;
        }
        VdiManager scan = new VdiManager(localGateway, alloc, c.copies(), c.blockSizeShift());
        scan.recover(store.list().stream().filter(ObjectIds::isInode).toList());
        vdis.restore(scan.snapshot());
        scan.close();
        app.save();
    }

    /** Called in cluster order: a fresh format wipes this node's objects; adopting a config keeps them. */
    void installConfig(ClusterConfig c, boolean fresh) throws IOException {
        synchronized (configLock) {
            installConfigLocked(c, fresh);
        }
    }

    private void installConfigLocked(ClusterConfig c, boolean fresh) throws IOException {
        ClusterConfig old = config;
        if (!fresh && old != null && old.clusterId().equals(c.clusterId()) && vdis != null) {
            return;
        }
        if (vdis != null) {
            vdis.close();
            vdis = null;
        }
        if (fresh) {
            for (long oid : store.list()) {
                store.remove(oid);
            }
        }
        config = c;
        VdiManager m = new VdiManager(gateway, alloc, c.copies(), c.blockSizeShift());
        m.ordering(op -> orderCatalogue(op));
        m.self(self.toString());
        vdis = m;
        if (fresh) {
            log.info("formatted: cluster {} with {} copies; local objects removed", c.clusterId(), c.copies());
        }
    }

    private Object orderCatalogue(io.kelpie.vdi.CatalogueOp op) {
        try {
            return cluster.submit(op.encode()).join();
        } catch (CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            if (c instanceof KelpieException ke) {
                throw ke;
            }
            throw new KelpieException(Status.IO_ERROR, KelpieException.messageOf(c), c);
        }
    }

    /** The cluster config; fails with NOT_FORMATTED before {@code cluster format}. */
    public ClusterConfig config() {
        ClusterConfig c = config;
        if (c == null) {
            throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted (run 'kelpie cluster format')");
        }
        return c;
    }

    public boolean formatted() {
        return config != null;
    }

    /** The VDIs; fails with NOT_FORMATTED before {@code cluster format}. */
    public VdiManager vdis() {
        VdiManager v = vdis;
        if (v == null) {
            throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted (run 'kelpie cluster format')");
        }
        return v;
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
        if (copies < 1 || copies > Inode.MAX_COPIES) {
            throw new KelpieException(Status.INVALID, "copies must be between 1 and " + Inode.MAX_COPIES);
        }
        if (minCopies < 0 || minCopies > copies) {
            throw new KelpieException(Status.INVALID, "min-copies must be between 1 and the copies (" + copies + ")");
        }
        try {
            return cluster.format(copies, minCopies, force).join();
        } catch (CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            if (c instanceof KelpieException ke) {
                throw ke;
            }
            throw new IOException(KelpieException.messageOf(c), c);
        }
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
    public java.util.concurrent.CompletableFuture<Void> stopped() {
        return stopped;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (nbdServer != null) {
            nbdServer.close(); // first: connections release their VDI handles
            nbdServer = null;
        }
        if (recoveryWorker != null) {
            recoveryWorker.close();
        }
        if (cluster != null) {
            cluster.close(); // leave before the peer port goes, so others stop sending here
        }
        if (app != null) {
            app.close(); // the catalogue's last state reaches the disk
        }
        if (peerServer != null) {
            peerServer.close();
            peerServer = null;
        }
        if (vdis != null) {
            vdis.close();
        }
        if (peers != null) {
            peers.close();
        }
        if (recoveryExecutor != null) {
            recoveryExecutor.shutdownNow();
            try {
                recoveryExecutor.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (scrubber != null) {
            scrubber.close();
        }
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (connectExecutor != null) {
            connectExecutor.shutdownNow();
        }
        if (ioExecutor != null) {
            ioExecutor.shutdown();
            try {
                ioExecutor.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
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
        if (storeFailureReason != null) {
            storeFailure.complete(storeFailureReason);
        }
        stopped.complete(null);
    }

    static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
