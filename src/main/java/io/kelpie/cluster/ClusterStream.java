package io.kelpie.cluster;

import io.kelpie.cluster.ClusterListener.Standing;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * A {@link ClusterManager}'s side of the driver's ordered stream, on the driver thread: format,
 * joins and leaves become epochs, application ops reach the {@link ClusterManager.Application},
 * a group restarted from the epoch log assembles its last epoch's nodes (adopting the newest
 * history among them), shutdown and forced recovery are applied, and quorum is judged.
 */
final class ClusterStream implements ClusterListener {
    private static final Logger log = LoggerFactory.getLogger(ClusterStream.class);

    private final ClusterManager m;
    // Ordered state (in snapshots): assembling after a restart, a forced quorum basis.
    private boolean waiting;
    private Set<String> forced;

    ClusterStream(ClusterManager manager) {
        this.m = manager;
    }

    // ---- ClusterListener, on the m.driver thread ----

    @Override
    public byte[] joinData() {
        ClusterConfig c = m.config;
        return new JoinData(c == null ? "" : c.clusterId().toString(), m.epochs.latestNumber(),
                c == null ? new byte[0] : state().encode()).encode();
    }

    @Override
    public String checkJoin(NodeInfo joiner, byte[] joinData) {
        return JoinData.refusal(joiner, joinData, m.config);
    }

    @Override
    public void onJoin(NodeInfo joined, List<NodeInfo> members, long time, byte[] joinData) {
        boolean founding = members.size() == 1 && joined.id().equals(m.self.id()) && joinData.length == 0;
        if (founding && m.epochs.latest() != null) {
            // Restarted from the epoch log (or cut off from the majority and alone): any node of
            // the last epoch may have newer writes; wait for all of them before serving.
            waiting = true;
            forced = null;
            log.info("founded from the epoch log: waiting for the {} node(s) of epoch {} before serving",
                    m.epochs.latest().members().size(), m.epochs.latestNumber());
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
            JoinData j = JoinData.decode(joinData);
            if (j.state().length == 0 || j.latest() <= m.epochs.latestNumber()) {
                return;
            }
            ClusterState theirs = ClusterState.decode(j.state());
            log.info("node {} has a newer history (epoch {} > {}); adopting its cluster state", joiner, j.latest(),
                    m.epochs.latestNumber());
            install(new ClusterState(theirs.config(), theirs.history(), true, null, theirs.appState()));
        } catch (IOException e) {
            log.error("cannot read the cluster state node {} offered: {}", joiner, e.getMessage());
        }
    }

    private void endWaitingIfComplete(List<NodeInfo> members, long time) {
        Epoch last = m.epochs.latest();
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
        m.reachable = List.copyOf(live);
        Quorum.Verdict v = Quorum.judge(m.config == null ? null : m.epochs.latest(), waiting, forced, members, live);
        m.setRefusal(m.shuttingDown ? "the cluster is shutting down" : v.refusal());
        return v.standing();
    }

    @Override
    public void detached(String why) {
        m.setRefusal("this node is rejoining the cluster (" + why + ")");
    }

    @Override
    public String groupTag() {
        ClusterConfig c = m.config;
        return c == null ? "" : c.clusterId().toString();
    }

    @Override
    public long claim() {
        return m.epochs.latestNumber();
    }

    @Override
    public Object onEvent(NodeInfo sender, byte[] payload) throws Exception {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
        byte type = in.readByte();
        switch (type) {
            case ClusterManager.OP_FORMAT -> {
                return applyFormat(in);
            }
            case ClusterManager.OP_SHUTDOWN -> {
                return applyShutdown(sender);
            }
            case ClusterManager.OP_RECOVER -> {
                return applyRecover(sender, in);
            }
            case ClusterManager.OP_APP -> {
                if (m.config == null) {
                    throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted (run 'kelpie cluster format')");
                }
                byte[] op = new byte[payload.length - 1];
                System.arraycopy(payload, 1, op, 0, op.length);
                return m.app.apply(sender, op);
            }
            default -> throw new KelpieException(Status.INVALID, "unknown cluster operation " + type);
        }
    }

    private ClusterConfig applyFormat(DataInputStream in) throws IOException {
        boolean force = in.readBoolean();
        ClusterConfig fresh = new ClusterConfig(UUID.fromString(in.readUTF()), in.readLong(), in.readInt(), in.readInt(), in.readInt());
        if (m.config != null && !force) {
            throw new KelpieException(Status.ALREADY_FORMATTED,
                    "the cluster is already formatted; 'cluster format --force' deletes every VDI and formats anew");
        }
        m.dir.writeConfig(fresh);
        m.config = fresh;
        waiting = false;
        forced = null;
        // The application is ready before the new epoch is published: whoever sees epoch 1 can use it.
        m.app.formatted(fresh, true);
        setEpochs(List.of(new Epoch(1, fresh.createTime(), m.driver.members())));
        log.info("cluster {} formatted with {} copies; epoch 1 with {} nodes", fresh.clusterId(), fresh.copies(),
                m.driver.members().size());
        m.app.epochChanged(m.epochs.latest(), m.placement.ring(), List.of(m.epochs.latest()));
        return fresh;
    }

    /** No epoch change from here on: every node stops in the epoch they all share, so a restart waits for all. */
    private Long applyShutdown(NodeInfo sender) {
        m.shuttingDown = true;
        long epoch = m.epochs.latestNumber();
        m.setRefusal("the cluster is shutting down");
        log.info("cluster shutdown requested by {} at epoch {}; stopping", sender, epoch);
        Runnable hook = m.shutdownHook;
        Thread t = new Thread(() -> {
            try {
                m.dir.writeAtomically(ClusterManager.SHUTDOWN_MARK, out -> out.write(Long.toString(epoch).getBytes(StandardCharsets.UTF_8)));
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
        Epoch last = m.epochs.latest();
        if (m.config == null || last == null) {
            throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted: there is nothing to recover");
        }
        if (waiting) {
            List<NodeInfo> missing = Quorum.missing(last, m.driver.members());
            waiting = false;
            log.warn("recovery forced by {}: going on without {}", sender, Quorum.addresses(missing));
            newEpoch(m.driver.members(), time, "recovery forced without " + Quorum.addresses(missing));
            return "epoch " + m.epochs.latestNumber() + " without " + Quorum.addresses(missing);
        }
        if (m.refusal == null) {
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
        ClusterConfig c = m.config;
        return new ClusterState(c, m.epochs.all(), waiting, forced, c == null ? new byte[0] : m.app.snapshot());
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
            m.dir.writeConfig(c);
        }
        // Epochs this node's log does not have as they were (it was away, or its numbering
        // diverged while it ran alone): objects it holds may have been written in them.
        boolean sameCluster = c != null && m.config != null && c.clusterId().equals(m.config.clusterId());
        List<Epoch> mine = sameCluster ? m.epochs.all() : List.of();
        m.config = c;
        waiting = s.waiting();
        forced = s.forced();
        if (c != null) {
            m.app.formatted(c, false);
            m.app.restore(s.appState());
        }
        setEpochs(s.history());
        List<Epoch> unseen = s.history().stream().filter(e -> !mine.contains(e)).toList();
        log.info("adopted the cluster state: {}, epoch {}{}", c == null ? "not formatted" : "cluster " + c.clusterId(),
                m.epochNumber(), waiting ? " (waiting for its nodes)" : "");
        if (c != null) {
            m.app.epochChanged(m.epochs.latest(), m.placement.ring(), unseen.isEmpty() ? List.of(m.epochs.latest()) : unseen);
        }
    }

    private void newEpoch(List<NodeInfo> members, long time, String why) {
        if (m.config == null || m.shuttingDown) {
            return;
        }
        Epoch e = new Epoch(m.epochs.latestNumber() + 1, time, members);
        try {
            m.epochs.append(e);
        } catch (IOException ex) {
            // Without its epoch log a node cannot take part in recovery; stop rather than diverge.
            throw new UncheckedIOException("cannot write the epoch log", ex);
        }
        if (forced != null && forced.containsAll(Quorum.ids(members))) {
            forced = null; // the forced basis is an epoch now
        }
        m.publish(e);
        log.info("epoch {}: {} ({} nodes)", e.number(), why, members.size());
        m.app.epochChanged(e, m.placement.ring(), List.of(e));
    }

    private void setEpochs(List<Epoch> history) throws IOException {
        m.epochs.replace(history);
        m.publish(m.epochs.latest());
    }
}
