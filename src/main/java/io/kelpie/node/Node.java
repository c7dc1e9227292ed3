package io.kelpie.node;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.config.DataDir;
import io.kelpie.frontend.NbdServer;
import io.kelpie.gateway.Gateway;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.FileObjectStore;
import io.kelpie.store.ObjectStore;
import io.kelpie.vdi.ObjectIds;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One Kelpie node: its data directory, object store, gateway, VDIs and network servers. Started by
 * {@code kelpie node run}; tests start several in one JVM.
 */
public final class Node implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Node.class);

    private final NodeOptions options;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private DataDir dataDir;
    private ObjectStore store;
    private ExecutorService ioExecutor;
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private Gateway gateway;
    private volatile ClusterConfig config;
    private volatile VdiManager vdis;
    private NbdServer nbdServer;
    private io.kelpie.peer.PeerServer peerServer;

    public Node(NodeOptions options) {
        this.options = options;
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

    /** The NBD server, null when the NBD port is 0. */
    public NbdServer nbdServer() {
        return nbdServer;
    }

    /** Opens the data directory and store and loads the VDIs of a formatted node. */
    public synchronized Node start() throws IOException {
        dataDir = DataDir.open(options.dir());
        try {
            store = new FileObjectStore(dataDir.objects());
            ioExecutor = Executors.newFixedThreadPool(options.ioThreads(), threads("kelpie-io"));
            bossGroup = Transports.group(1);
            workerGroup = Transports.group(Math.max(2, Runtime.getRuntime().availableProcessors()));
            gateway = new LocalGateway(store, ioExecutor, alloc);
            config = dataDir.readConfig();
            if (config != null) {
                vdis = loadVdis(config);
            }
            peerServer = io.kelpie.peer.PeerServer.start(this);
            if (options.nbdPort() > 0) {
                nbdServer = NbdServer.start(this);
            }
            log.info("node started: data {}, {}, transport {}", options.dir(),
                    config == null ? "not formatted" : "cluster " + config.clusterId(), Transports.epoll() ? "epoll" : "nio");
            return this;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
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
     * Formats this node as a new cluster. Refused on a formatted node unless {@code force}, which
     * deletes every object first.
     */
    public synchronized ClusterConfig format(int copies, boolean force) throws IOException {
        if (copies < 1 || copies > io.kelpie.vdi.Inode.MAX_COPIES) {
            throw new KelpieException(Status.INVALID, "copies must be between 1 and " + io.kelpie.vdi.Inode.MAX_COPIES);
        }
        if (config != null && !force) {
            throw new KelpieException(Status.ALREADY_FORMATTED,
                    "the cluster is already formatted; 'cluster format --force' deletes every VDI and formats anew");
        }
        if (vdis != null) {
            vdis.close();
            vdis = null;
        }
        for (long oid : store.list()) {
            store.remove(oid);
        }
        ClusterConfig fresh = ClusterConfig.create(copies);
        dataDir.writeConfig(fresh);
        config = fresh;
        vdis = new VdiManager(gateway, alloc, fresh.copies(), fresh.blockSizeShift());
        log.info("formatted cluster {} with {} copies", fresh.clusterId(), copies);
        return fresh;
    }

    /** The port the peer server listens on (the bound one when {@code --port 0}). */
    public int peerPort() {
        return peerServer != null ? peerServer.port() : options.port();
    }

    /** This node as the cluster sees it. */
    public Member self() {
        String address = options.bind() + ":" + peerPort();
        return new Member(address, address, options.zone() != null ? options.zone() : address);
    }

    /** The current epoch: 0 before format; a single node stays at 1 (the cluster layer will bump it). */
    public int epoch() {
        return config != null ? 1 : 0;
    }

    /** The members of the current epoch; a single node knows only itself. */
    public List<Member> members() {
        return List.of(self());
    }

    /** The epoch log, oldest first: for a single node, epoch 1 from format time on. */
    public List<EpochRecord> epochHistory() {
        ClusterConfig c = config;
        return c == null ? List.of() : List.of(new EpochRecord(1, c.createTime(), members()));
    }

    private VdiManager loadVdis(ClusterConfig c) throws IOException {
        VdiManager m = new VdiManager(gateway, alloc, c.copies(), c.blockSizeShift());
        List<Long> inodes = store.list().stream().filter(ObjectIds::isInode).toList();
        m.recover(inodes);
        return m;
    }

    @Override
    public synchronized void close() {
        if (nbdServer != null) {
            nbdServer.close(); // first: connections release their VDI handles
            nbdServer = null;
        }
        if (peerServer != null) {
            peerServer.close();
            peerServer = null;
        }
        if (vdis != null) {
            vdis.close();
        }
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
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
