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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * A node's view of the cluster, kept identical on every member by applying the driver's ordered
 * stream: the cluster config (format), the epoch and its history (a new epoch on every join and
 * leave once formatted; format starts at 1), the ring of the current epoch, and whatever state
 * the {@link Application} keeps (the VDI catalogue). A joining node takes all of it from a member.
 */
public final class ClusterManager implements ClusterListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterManager.class);

    private static final byte OP_FORMAT = 1;
    private static final byte OP_APP = 2;

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
    private final Object epochWait = new Object();
    private final List<Map.Entry<Long, CompletableFuture<Long>>> epochWaiters = new ArrayList<>();
    private final List<CompletableFuture<Placement>> placementWaiters = new ArrayList<>();

    public ClusterManager(DataDir dir, ClusterDriver driver, NodeInfo self, Application app) throws IOException {
        this.dir = dir;
        this.driver = driver;
        this.self = self;
        this.app = app;
        this.epochs = EpochLog.open(dir);
        this.config = dir.readConfig();
        Epoch latest = epochs.latest();
        this.placement = new Placement(latest == null ? 0 : latest.number(), new Ring(latest == null ? List.of() : latest.members()));
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
        ClusterConfig c = config;
        byte[] joinData = c == null ? new byte[0] : c.clusterId().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        driver.join(self, joinData, this, timeoutMillis);
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

    /**
     * Completes with the current placement once it is another one than {@code seen} (a new epoch,
     * or I/O refused or allowed again): at once if it already is.
     */
    public CompletableFuture<Placement> placementChanged(Placement seen) {
        CompletableFuture<Placement> f = new CompletableFuture<>();
        synchronized (epochWait) {
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

    /** Applies an application operation on every member in cluster order; completes with its local result. */
    public CompletableFuture<Object> submit(byte[] op) {
        byte[] framed = new byte[op.length + 1];
        framed[0] = OP_APP;
        System.arraycopy(op, 0, framed, 1, op.length);
        return driver.broadcast(framed);
    }

    // ---- ClusterListener, on the driver thread ----

    @Override
    public String checkJoin(NodeInfo joiner, byte[] joinData) {
        String theirs = joinData.length == 0 ? null : new String(joinData, java.nio.charset.StandardCharsets.UTF_8);
        ClusterConfig c = config;
        if (theirs == null) {
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
    public void onJoin(NodeInfo joined, List<NodeInfo> members, long time) {
        newEpoch(members, time, "node " + joined + " joined");
    }

    @Override
    public void onLeave(NodeInfo left, List<NodeInfo> members, long time) {
        newEpoch(members, time, "node " + left + " left");
    }

    @Override
    public Object onEvent(NodeInfo sender, byte[] payload) throws Exception {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        byte type = in.readByte();
        if (type == OP_FORMAT) {
            return applyFormat(in);
        }
        if (type == OP_APP) {
            if (config == null) {
                throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted (run 'kelpie cluster format')");
            }
            byte[] op = new byte[payload.length - 1];
            System.arraycopy(payload, 1, op, 0, op.length);
            return app.apply(sender, op);
        }
        throw new KelpieException(Status.INVALID, "unknown cluster operation " + type);
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
        // The application is ready before the new epoch is published: whoever sees epoch 1 can use it.
        app.formatted(fresh, true);
        setEpochs(List.of(new Epoch(1, fresh.createTime(), driver.members())));
        log.info("cluster {} formatted with {} copies; epoch 1 with {} nodes", fresh.clusterId(), fresh.copies(),
                driver.members().size());
        app.epochChanged(epochs.latest(), placement.ring(), List.of(epochs.latest()));
        return fresh;
    }

    @Override
    public byte[] snapshot() {
        ClusterConfig c = config;
        List<Epoch> history = epochs.all();
        byte[] appState = c == null ? new byte[0] : app.snapshot();
        return encode(out -> {
            out.writeBoolean(c != null);
            if (c != null) {
                out.writeUTF(c.clusterId().toString());
                out.writeLong(c.createTime());
                out.writeInt(c.copies());
                out.writeInt(c.minCopies());
                out.writeInt(c.blockSizeShift());
            }
            out.writeInt(history.size());
            for (Epoch e : history) {
                e.writeTo(out);
            }
            out.writeInt(appState.length);
            out.write(appState);
        });
    }

    @Override
    public void restore(List<NodeInfo> members, byte[] snapshot) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
            ClusterConfig c = null;
            if (in.readBoolean()) {
                c = new ClusterConfig(UUID.fromString(in.readUTF()), in.readLong(), in.readInt(), in.readInt(), in.readInt());
            }
            int n = in.readInt();
            List<Epoch> history = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                history.add(Epoch.readFrom(in));
            }
            byte[] appState = new byte[in.readInt()];
            in.readFully(appState);
            if (c != null) {
                dir.writeConfig(c);
            }
            // Epochs this node's log does not have as they were (it was away, or its numbering
            // diverged while it ran alone): objects it holds may have been written in them.
            boolean sameCluster = c != null && config != null && c.clusterId().equals(config.clusterId());
            List<Epoch> mine = sameCluster ? epochs.all() : List.of();
            config = c;
            if (c != null) {
                app.formatted(c, false);
                app.restore(appState);
            }
            setEpochs(history);
            List<Epoch> unseen = history.stream().filter(e -> !mine.contains(e)).toList();
            log.info("adopted the cluster state: {}, epoch {}", c == null ? "not formatted" : "cluster " + c.clusterId(),
                    epochNumber());
            if (c != null) {
                app.epochChanged(epochs.latest(), placement.ring(), unseen.isEmpty() ? List.of(epochs.latest()) : unseen);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot adopt the cluster state", e);
        }
    }

    private void newEpoch(List<NodeInfo> members, long time, String why) {
        if (config == null) {
            return;
        }
        Epoch e = new Epoch(epochs.latestNumber() + 1, time, members);
        try {
            epochs.append(e);
        } catch (IOException ex) {
            // Without its epoch log a node cannot take part in recovery; stop rather than diverge.
            throw new UncheckedIOException("cannot write the epoch log", ex);
        }
        publish(e);
        log.info("epoch {}: {} ({} nodes)", e.number(), why, members.size());
        app.epochChanged(e, placement.ring(), List.of(e));
    }

    private void setEpochs(List<Epoch> history) throws IOException {
        epochs.replace(history);
        publish(epochs.latest());
    }

    private void publish(Epoch e) {
        placement = new Placement(e == null ? 0 : e.number(), new Ring(e == null ? List.of() : e.members()));
        List<CompletableFuture<Long>> ready = new ArrayList<>();
        long now = placement.epoch();
        List<CompletableFuture<Placement>> moved;
        synchronized (epochWait) {
            moved = new ArrayList<>(placementWaiters);
            placementWaiters.clear();
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
        Placement p = placement;
        moved.forEach(f -> f.complete(p));
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
