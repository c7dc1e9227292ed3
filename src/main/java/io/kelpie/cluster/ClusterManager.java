package io.kelpie.cluster;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.config.DataDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.nio.charset.StandardCharsets;
import io.kelpie.cluster.ClusterListener.Standing;
import java.util.Map;
import java.util.UUID;
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
public final class ClusterManager implements ClusterListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterManager.class);

    private static final byte OP_FORMAT = 1;
    private static final byte OP_APP = 2;
    private static final byte OP_SHUTDOWN = 3;
    private static final byte OP_RECOVER = 4;
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

    private final DataDir dir;
    private final ClusterDriver driver;
    private final NodeInfo self;
    private final Application app;
    private final EpochLog epochs;
    private volatile ClusterConfig config;
    private volatile Placement placement;
    // Ordered state (driver thread; in snapshots): assembling after a restart, a forced basis.
    private boolean waiting;
    private Set<String> forced;
    private volatile boolean shuttingDown;
    private volatile Runnable shutdownHook = () -> { };
    private volatile String refusal = "this node is joining the cluster";
    private volatile List<NodeInfo> reachable = List.of();
    private final Object epochWait = new Object();
    private final List<Map.Entry<Long, CompletableFuture<Long>>> epochWaiters = new ArrayList<>();

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
        driver.join(self, this, timeoutMillis);
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
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (epochWait) {
            while (epochNumber() < epoch) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return false;
                }
                epochWait.wait(left);
            }
            return true;
        }
    }

    /** Completes (with the new epoch) once this node's epoch is above {@code epoch}. */
    public CompletableFuture<Long> epochAbove(long epoch) {
        CompletableFuture<Long> f = new CompletableFuture<>();
        synchronized (epochWait) {
            long now = epochNumber();
            if (now > epoch) {
                f.complete(now);
            } else {
                epochWaiters.add(Map.entry(epoch, f));
            }
        }
        return f;
    }

    /** Why this node may not serve I/O now, or null while it may. */
    public String ioRefusal() {
        return refusal;
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

    /** Formats the whole cluster: every member applies it at the same point of the stream. */
    public CompletableFuture<ClusterConfig> format(int copies, boolean force) {
        return format(copies, 0, force);
    }

    /** {@code minCopies} 0: the default, a majority of the copies. */
    public CompletableFuture<ClusterConfig> format(int copies, int minCopies, boolean force) {
        String why = refusal;
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
        String why = refusal;
        if (why != null) {
            return CompletableFuture.failedFuture(new KelpieException(Status.NO_QUORUM, why));
        }
        byte[] framed = new byte[op.length + 1];
        framed[0] = OP_APP;
        System.arraycopy(op, 0, framed, 1, op.length);
        return driver.broadcast(framed);
    }

    // ---- ClusterListener, on the driver thread ----

    @Override
    public byte[] joinData() {
        ClusterConfig c = config;
        byte[] state = c == null ? new byte[0] : state().encode();
        return encode(out -> {
            out.writeUTF(c == null ? "" : c.clusterId().toString());
            out.writeLong(epochs.latestNumber());
            Wire.writeBytes(out, state);
        });
    }

    private record JoinData(String clusterId, long latest, byte[] state) {
        static JoinData of(byte[] b) throws IOException {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
            return new JoinData(in.readUTF(), in.readLong(), Wire.readBytes(in));
        }
    }

    @Override
    public String checkJoin(NodeInfo joiner, byte[] joinData) {
        String theirs;
        try {
            theirs = JoinData.of(joinData).clusterId();
        } catch (IOException e) {
            return "node " + joiner.address() + " sent join data this node cannot read (another Kelpie version?)";
        }
        ClusterConfig c = config;
        if (theirs.isEmpty()) {
            return null;
        }
        if (c == null) {
            return "node " + joiner.address() + " belongs to cluster " + theirs
                    + " but this cluster is not formatted; start that cluster's nodes first, or clear its data directory";
        }
        if (!c.clusterId().toString().equals(theirs)) {
            return "node " + joiner.address() + " belongs to cluster " + theirs + ", not to this cluster " + c.clusterId()
                    + "; clear its data directory to add it here";
        }
        return null;
    }

    @Override
    public void onJoin(NodeInfo joined, List<NodeInfo> members, long time, byte[] joinData) {
        boolean founding = members.size() == 1 && joined.id().equals(self.id()) && joinData.length == 0;
        if (founding && epochs.latest() != null) {
            // Restarted from the epoch log (or cut off from the majority and alone): any node of
            // the last epoch may have newer writes; wait for all of them before serving.
            waiting = true;
            forced = null;
            log.info("founded from the epoch log: waiting for the {} node(s) of epoch {} before serving",
                    epochs.latest().members().size(), epochs.latestNumber());
            endWaitingIfComplete(members, time);
            return;
        }
        if (waiting) {
            adoptIfNewer(joined, joinData);
            endWaitingIfComplete(members, time);
            return;
        }
        newEpoch(members, time, "node " + joined + " joined");
    }

    /** A waiting group takes the newest history among its joiners: the node that ran longest knows most. */
    private void adoptIfNewer(NodeInfo joiner, byte[] joinData) {
        try {
            JoinData j = JoinData.of(joinData);
            if (j.state().length == 0 || j.latest() <= epochs.latestNumber()) {
                return;
            }
            ClusterState theirs = ClusterState.decode(j.state());
            log.info("node {} has a newer history (epoch {} > {}); adopting its cluster state", joiner, j.latest(),
                    epochs.latestNumber());
            install(new ClusterState(theirs.config(), theirs.history(), true, null, theirs.appState()));
        } catch (IOException e) {
            log.error("cannot read the cluster state node {} offered: {}", joiner, e.getMessage());
        }
    }

    private void endWaitingIfComplete(List<NodeInfo> members, long time) {
        Epoch last = epochs.latest();
        if (!waiting || last == null || !Quorum.missing(last, members).isEmpty()) {
            return;
        }
        waiting = false;
        newEpoch(members, time, "every node of epoch " + last.number() + " is back");
    }

    @Override
    public void onLeave(NodeInfo left, List<NodeInfo> members, long time) {
        if (!waiting) {
            newEpoch(members, time, "node " + left + " left");
        }
    }

    @Override
    public Standing assess(List<NodeInfo> members, List<NodeInfo> live) {
        reachable = List.copyOf(live);
        Quorum.Verdict v = Quorum.judge(config == null ? null : epochs.latest(), waiting, forced, members, live);
        setRefusal(shuttingDown ? "the cluster is shutting down" : v.refusal());
        return v.standing();
    }

    @Override
    public void detached(String why) {
        setRefusal("this node is rejoining the cluster (" + why + ")");
    }

    @Override
    public String groupTag() {
        ClusterConfig c = config;
        return c == null ? "" : c.clusterId().toString();
    }

    @Override
    public long claim() {
        return epochs.latestNumber();
    }

    @Override
    public Object onEvent(NodeInfo sender, byte[] payload) throws Exception {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        byte type = in.readByte();
        switch (type) {
            case OP_FORMAT -> {
                return applyFormat(in);
            }
            case OP_SHUTDOWN -> {
                return applyShutdown(sender);
            }
            case OP_RECOVER -> {
                return applyRecover(sender, in);
            }
            case OP_APP -> {
                if (config == null) {
                    throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted (run 'kelpie cluster format')");
                }
                byte[] op = new byte[payload.length - 1];
                System.arraycopy(payload, 1, op, 0, op.length);
                return app.apply(sender, op);
            }
            default -> throw new KelpieException(Status.INVALID, "unknown cluster operation " + type);
        }
    }

    private ClusterConfig applyFormat(DataInputStream in) throws IOException {
        boolean force = in.readBoolean();
        ClusterConfig fresh = new ClusterConfig(UUID.fromString(in.readUTF()), in.readLong(), in.readInt(), in.readInt(), in.readInt());
        if (config != null && !force) {
            throw new KelpieException(Status.ALREADY_FORMATTED,
                    "the cluster is already formatted; 'cluster format --force' deletes every VDI and formats anew");
        }
        dir.writeConfig(fresh);
        config = fresh;
        waiting = false;
        forced = null;
        // The application is ready before the new epoch is published: whoever sees epoch 1 can use it.
        app.formatted(fresh, true);
        setEpochs(List.of(new Epoch(1, fresh.createTime(), driver.members())));
        log.info("cluster {} formatted with {} copies; epoch 1 with {} nodes", fresh.clusterId(), fresh.copies(),
                driver.members().size());
        app.epochChanged(epochs.latest(), placement.ring(), List.of(epochs.latest()));
        return fresh;
    }

    /** No epoch change from here on: every node stops in the epoch they all share, so a restart waits for all. */
    private Long applyShutdown(NodeInfo sender) {
        shuttingDown = true;
        long epoch = epochs.latestNumber();
        setRefusal("the cluster is shutting down");
        log.info("cluster shutdown requested by {} at epoch {}; stopping", sender, epoch);
        Runnable hook = shutdownHook;
        Thread t = new Thread(() -> {
            try {
                dir.writeAtomically(SHUTDOWN_MARK, out -> out.write(Long.toString(epoch).getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                log.warn("cannot record the clean shutdown: {}", e.getMessage());
            }
            hook.run();
        }, "kelpie-cluster-shutdown");
        t.start();
        return epoch;
    }

    private String applyRecover(NodeInfo sender, DataInputStream in) throws IOException {
        long time = in.readLong();
        int n = in.readInt();
        Set<String> basis = new LinkedHashSet<>();
        for (int i = 0; i < n; i++) {
            basis.add(in.readUTF());
        }
        Epoch last = epochs.latest();
        if (config == null || last == null) {
            throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted: there is nothing to recover");
        }
        if (waiting) {
            List<NodeInfo> missing = Quorum.missing(last, driver.members());
            waiting = false;
            log.warn("recovery forced by {}: going on without {}", sender, Quorum.addresses(missing));
            newEpoch(driver.members(), time, "recovery forced without " + Quorum.addresses(missing));
            return "epoch " + epochs.latestNumber() + " without " + Quorum.addresses(missing);
        }
        if (refusal == null) {
            return "nothing to recover: the cluster serves (epoch " + last.number() + ")";
        }
        forced = basis;
        log.warn("recovery forced by {}: quorum is now counted among {} node(s)", sender, basis.size());
        return "quorum is now counted among the " + basis.size() + " node(s) " + sender + " reaches; the others are removed";
    }

    @Override
    public byte[] snapshot() {
        return state().encode();
    }

    private ClusterState state() {
        ClusterConfig c = config;
        return new ClusterState(c, epochs.all(), waiting, forced, c == null ? new byte[0] : app.snapshot());
    }

    @Override
    public void restore(List<NodeInfo> members, byte[] snapshot) {
        try {
            install(ClusterState.decode(snapshot));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot adopt the cluster state", e);
        }
    }

    private void install(ClusterState s) throws IOException {
        ClusterConfig c = s.config();
        if (c != null) {
            dir.writeConfig(c);
        }
        // Epochs this node's log does not have as they were (it was away, or its numbering
        // diverged while it ran alone): objects it holds may have been written in them.
        boolean sameCluster = c != null && config != null && c.clusterId().equals(config.clusterId());
        List<Epoch> mine = sameCluster ? epochs.all() : List.of();
        config = c;
        waiting = s.waiting();
        forced = s.forced();
        if (c != null) {
            app.formatted(c, false);
            app.restore(s.appState());
        }
        setEpochs(s.history());
        List<Epoch> unseen = s.history().stream().filter(e -> !mine.contains(e)).toList();
        log.info("adopted the cluster state: {}, epoch {}{}", c == null ? "not formatted" : "cluster " + c.clusterId(),
                epochNumber(), waiting ? " (waiting for its nodes)" : "");
        if (c != null) {
            app.epochChanged(epochs.latest(), placement.ring(), unseen.isEmpty() ? List.of(epochs.latest()) : unseen);
        }
    }

    private void newEpoch(List<NodeInfo> members, long time, String why) {
        if (config == null || shuttingDown) {
            return;
        }
        Epoch e = new Epoch(epochs.latestNumber() + 1, time, members);
        try {
            epochs.append(e);
        } catch (IOException ex) {
            // Without its epoch log a node cannot take part in recovery; stop rather than diverge.
            throw new UncheckedIOException("cannot write the epoch log", ex);
        }
        if (forced != null && forced.containsAll(Quorum.ids(members))) {
            forced = null; // the forced basis is an epoch now
        }
        publish(e);
        log.info("epoch {}: {} ({} nodes)", e.number(), why, members.size());
        app.epochChanged(e, placement.ring(), List.of(e));
    }

    private void setEpochs(List<Epoch> history) throws IOException {
        epochs.replace(history);
        publish(epochs.latest());
    }

    private void setRefusal(String why) {
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

    private void publish(Epoch e) {
        placement = new Placement(e == null ? 0 : e.number(), new Ring(e == null ? List.of() : e.members()), refusal);
        List<CompletableFuture<Long>> ready = new ArrayList<>();
        long now = placement.epoch();
        synchronized (epochWait) {
            epochWait.notifyAll();
            epochWaiters.removeIf(w -> {
                if (now > w.getKey() || w.getValue().isDone()) {
                    ready.add(w.getValue());
                    return true;
                }
                return false;
            });
        }
        ready.forEach(f -> f.complete(now));
    }

    @Override
    public void close() {
        driver.close();
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] encode(Body body) {
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
