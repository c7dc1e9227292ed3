package io.kelpie.cluster;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.config.DataDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A node's view of the cluster, kept identical on every member by applying the driver's ordered
 * stream: the cluster config (format), the epoch and its history (a new epoch on every join and
 * leave once formatted; format starts at 1), the ring of the current epoch, and whatever state
 * the {@link Application} keeps (the VDI catalogue). A joining node takes all of it from a member.
 *
 * <p>It also judges quorum ({@link Quorum}) and so whether this node may serve: while it may
 * not, {@link Placement#ioRefusal()} says why and catalogue operations fail with NO_QUORUM. A
 * node that founds a group from its epoch log (a whole-cluster restart) waits until every node of
 * its last epoch has joined, adopting the newest history among them, then makes a new epoch;
 * {@link #recoverForce} goes on without the missing ones. {@link #shutdown} stops every node
 * with no epoch change, so that the restart waits for all of them.
 */
public final class ClusterManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterManager.class);

    static final byte OP_FORMAT = 1;
    static final byte OP_APP = 2;
    static final byte OP_SHUTDOWN = 3;
    static final byte OP_RECOVER = 4;
    static final String SHUTDOWN_MARK = "clean-shutdown";

    /** The node's side of the ordered stream; called on the driver thread, in order. */
    public interface Application {
        /**
         * The cluster was formatted ({@code fresh}: wipe local data) or this node adopted a
         * formatted cluster's config on joining (keep its data).
         */
        void formatted(ClusterConfig config, boolean fresh);

        /**
         * A new epoch began. {@code unseen}: the epochs this node was not part of since the last
         * one it saw, the new one included (just the new one for a member all along; more for a
         * node that was away) - objects it held may have changed in any of them.
         */
        void epochChanged(Epoch epoch, Ring ring, List<Epoch> unseen);

        /** An application operation from {@link #submit}; its result goes to the submitter. */
        Object apply(NodeInfo sender, byte[] op) throws Exception;

        byte[] snapshot();

        void restore(byte[] snapshot);
    }

    final DataDir dir;
    final ClusterDriver driver;
    final NodeInfo self;
    final Application app;
    final EpochLog epochs;
    volatile ClusterConfig config;
    volatile Placement placement;
    private final ClusterStream stream = new ClusterStream(this);
    volatile boolean shuttingDown;
    volatile Runnable shutdownHook = () -> { };
    /** Written on the driver thread; readers use the published placement's, which matches its epoch. */
    volatile String refusal = "this node is joining the cluster";
    volatile List<NodeInfo> reachable = List.of();
    private final EpochWaiters waiters = new EpochWaiters(this::epochNumber);
    private final List<CompletableFuture<Placement>> placementWaiters = new ArrayList<>();

    public ClusterManager(DataDir dir, ClusterDriver driver, NodeInfo self, Application app) throws IOException {
        this.dir = dir;
        this.driver = driver;
        this.self = self;
        this.app = app;
        this.epochs = EpochLog.open(dir);
        this.config = dir.readConfig();
        Epoch latest = epochs.latest();
        this.placement = new Placement(latest == null ? 0 : latest.number(), new Ring(latest == null ? List.of() : latest.members()),
                refusal);
    }

    /**
     * An epoch number with its ring, read together so that they always match.
     *
     * @param ioRefusal null while this node may serve I/O; else why not (no quorum, waiting for
     *                  the last epoch's nodes after a restart), for the error clients get
     */
    public record Placement(long epoch, Ring ring, String ioRefusal) {
        public Placement(long epoch, Ring ring) {
            this(epoch, ring, null);
        }
    }

    /** Joins (or founds) the cluster. */
    public void start(long timeoutMillis) throws InterruptedException {
        driver.join(self, stream, timeoutMillis);
    }

    public NodeInfo self() {
        return self;
    }

    public ClusterDriver driver() {
        return driver;
    }

    /** The config, or null before format. */
    public ClusterConfig config() {
        return config;
    }

    /** The current epoch, or null before format. */
    public Epoch epoch() {
        return epochs.latest();
    }

    public long epochNumber() {
        return placement.epoch();
    }

    public Ring ring() {
        return placement.ring();
    }

    public Placement placement() {
        return placement;
    }

    public List<Epoch> history() {
        return epochs.all();
    }

    public List<NodeInfo> members() {
        return driver.members();
    }

    /** The ring of an older epoch, for recovery; null when this node never logged it. */
    public Ring ringOf(long epoch) {
        Epoch e = epochs.get(epoch);
        return e == null ? null : new Ring(e.members());
    }

    /** Waits until this node's epoch is at least {@code epoch}; false on timeout. */
    public boolean awaitEpoch(long epoch, long timeoutMillis) throws InterruptedException {
        return waiters.await(epoch, timeoutMillis);
    }

    /** Completes (with the new epoch) once this node's epoch is above {@code epoch}. */
    public CompletableFuture<Long> epochAbove(long epoch) {
        return waiters.above(epoch);
    }

    /** Why this node may not serve I/O now, or null while it may. */
    public String ioRefusal() {
        return placement.ioRefusal();
    }

    /** Runs (on a thread of its own) once this node applied a cluster shutdown. */
    public void onShutdown(Runnable hook) {
        this.shutdownHook = hook;
    }

    /** Stops every node: each applies it, records a clean shutdown and runs its shutdown hook. */
    public CompletableFuture<Long> shutdown() {
        return driver.broadcast(new byte[] {OP_SHUTDOWN}).thenApply(r -> (Long) r);
    }

    /**
     * Goes on without the last epoch's missing nodes: a waiting group makes its members the new
     * epoch now; a minority takes the nodes this node reaches as its quorum basis. Allowed
     * without quorum (that is its point); completes with what was done.
     */
    public CompletableFuture<String> recoverForce() {
        List<NodeInfo> basis = new ArrayList<>(reachable);
        byte[] op = encode(out -> {
            out.writeByte(OP_RECOVER);
            out.writeLong(System.currentTimeMillis());
            out.writeInt(basis.size());
            for (NodeInfo n : basis) {
                out.writeUTF(n.id());
            }
        });
        return driver.broadcast(op).thenApply(r -> (String) r);
    }

    /**
     * Completes with the current placement once it is another one than {@code seen} (a new epoch,
     * or I/O refused or allowed again): at once if it already is.
     */
    public CompletableFuture<Placement> placementChanged(Placement seen) {
        CompletableFuture<Placement> f = new CompletableFuture<>();
        synchronized (placementWaiters) {
            Placement now = placement;
            if (now != seen) {
                f.complete(now);
                return f;
            }
            placementWaiters.removeIf(CompletableFuture::isDone); // given up on (timed out)
            placementWaiters.add(f);
        }
        return f;
    }

    /** Formats the whole cluster: every member applies it at the same point of the stream. */
    public CompletableFuture<ClusterConfig> format(int copies, boolean force) {
        return format(copies, 0, force);
    }

    /** {@code minCopies} 0: the default, a majority of the copies. */
    public CompletableFuture<ClusterConfig> format(int copies, int minCopies, boolean force) {
        String why = ioRefusal();
        if (why != null && config != null) {
            return CompletableFuture.failedFuture(new KelpieException(Status.NO_QUORUM, why));
        }
        ClusterConfig fresh = ClusterConfig.create(copies, minCopies);
        byte[] op = encode(out -> {
            out.writeByte(OP_FORMAT);
            out.writeBoolean(force);
            out.writeUTF(fresh.clusterId().toString());
            out.writeLong(fresh.createTime());
            out.writeInt(fresh.copies());
            out.writeInt(fresh.minCopies());
            out.writeInt(fresh.blockSizeShift());
        });
        return driver.broadcast(op).thenApply(r -> (ClusterConfig) r);
    }

    /**
     * Applies an application operation on every member in cluster order; completes with its local
     * result. Refused (NO_QUORUM, with the reason) while this node may not serve.
     */
    public CompletableFuture<Object> submit(byte[] op) {
        String why = ioRefusal();
        if (why != null) {
            return CompletableFuture.failedFuture(new KelpieException(Status.NO_QUORUM, why));
        }
        byte[] framed = new byte[op.length + 1];
        framed[0] = OP_APP;
        System.arraycopy(op, 0, framed, 1, op.length);
        return driver.broadcast(framed);
    }

    void setRefusal(String why) {
        if (!java.util.Objects.equals(why, refusal)) {
            refusal = why;
            if (why != null) {
                log.warn("not serving: {}", why);
            } else {
                log.info("serving: quorum of epoch {}", epochNumber());
            }
            publish(epochs.latest());
        }
    }

    void publish(Epoch e) {
        Placement p = new Placement(e == null ? 0 : e.number(), new Ring(e == null ? List.of() : e.members()), refusal);
        placement = p;
        waiters.advanced(p.epoch());
        List<CompletableFuture<Placement>> moved;
        synchronized (placementWaiters) {
            moved = new ArrayList<>(placementWaiters);
            placementWaiters.clear();
        }
        moved.forEach(f -> f.complete(p));
    }

    @Override
    public void close() {
        driver.close();
    }

    interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    static byte[] encode(Body body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            body.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
