package io.kelpie.node;

import io.kelpie.cluster.ClusterDriver;
import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.FreePorts;
import io.kelpie.cluster.LocalDriver;
import io.kelpie.cluster.LocalHub;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.ObjectIds;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Several nodes in one JVM for tests: each with its own data directory and real peer (and
 * optionally NBD) ports on loopback, all sharing one in-JVM cluster hub. Nodes can be stopped
 * (graceful leave), killed (no goodbye) and restarted on the same directory and port; the
 * cluster network can be partitioned and healed, and a node's membership paused and resumed
 * (SIGSTOP/SIGCONT as the others see it; its peer port keeps working). Always close it;
 * {@link #dump()} prints what each node thinks, for failure messages.
 */
public final class MiniCluster implements AutoCloseable {
    private final Path root;
    private final boolean nbd;
    private final LocalHub hub = new LocalHub();
    private final List<Slot> slots = new ArrayList<>();
    private long recoveryRate;
    private java.util.function.UnaryOperator<io.kelpie.store.ObjectStore> wrapStores = s -> s;

    private static final class Slot {
        final int index;
        final int port;
        final int nbdPort;
        String zone;
        long weight;
        long recoveryRate;
        Node node;
        LocalDriver driver;

        Slot(int index, int port, int nbdPort) {
            this.index = index;
            this.port = port;
            this.nbdPort = nbdPort;
        }
    }

    public MiniCluster(Path root, boolean nbd) {
        this.root = root;
        this.nbd = nbd;
    }

    /** Background recovery's rate limit (bytes/s, 0 unlimited) for nodes added from now on. */
    public MiniCluster recoveryRate(long bytesPerSecond) {
        this.recoveryRate = bytesPerSecond;
        return this;
    }

    /** Wraps the store of nodes started from now on (outermost), e.g. with a fault injector. */
    public MiniCluster wrapStores(java.util.function.UnaryOperator<io.kelpie.store.ObjectStore> wrapper) {
        this.wrapStores = wrapper;
        return this;
    }

    /** Starts {@code n} more nodes, one after the other, each joining the ones before. */
    public MiniCluster start(int n) throws IOException {
        for (int i = 0; i < n; i++) {
            add(null, 0);
        }
        return this;
    }

    /** Adds and starts one node (zone null: its own). */
    public Node add(String zone, long weight) throws IOException {
        Slot s = new Slot(slots.size(), FreePorts.pair(), nbd ? FreePorts.pair() : 0);
        s.zone = zone;
        s.weight = weight;
        s.recoveryRate = recoveryRate;
        slots.add(s);
        return startSlot(s);
    }

    private Node startSlot(Slot s) throws IOException {
        NodeOptions o = new NodeOptions(root.resolve("node" + s.index), "127.0.0.1", s.port, s.nbdPort, List.of(), s.zone,
                s.weight, 0, 4, 0, s.recoveryRate);
        Node node = new Node(o, n -> {
            LocalDriver d = hub.newDriver();
            s.driver = d;
            return d;
        }, store -> wrapStores.apply(store));
        s.node = node.start();
        return s.node;
    }

    public Node node(int i) {
        Node n = slots.get(i).node;
        if (n == null) {
            throw new IllegalStateException("node " + i + " is not running");
        }
        return n;
    }

    /** HOST:PORT of node {@code i}, running or not. */
    public String address(int i) {
        return "127.0.0.1:" + slots.get(i).port;
    }

    public int size() {
        return slots.size();
    }

    /** The running nodes. */
    public List<Node> running() {
        return slots.stream().filter(s -> s.node != null).map(s -> s.node).toList();
    }

    /** Graceful stop: the node leaves the cluster, then shuts down. */
    public void stop(int i) {
        Slot s = slots.get(i);
        if (s.node != null) {
            s.node.close();
            s.node = null;
        }
    }

    /** A crash: the node vanishes from the cluster without a word, then its servers go. */
    public void kill(int i) {
        Slot s = slots.get(i);
        if (s.node != null) {
            s.driver.crash();
            s.node.close();
            s.node = null;
        }
    }

    /** Waits until every node stopped by itself (a cluster shutdown); their slots become free to restart. */
    public void awaitStopped(long millis) throws InterruptedException {
        for (Slot s : slots) {
            if (s.node != null) {
                Node n = s.node;
                await("node " + s.index + " stops", millis, () -> n.stopped().isDone());
                s.node = null;
            }
        }
    }

    /** Starts a stopped or killed node again on its directory and port. */
    public Node restart(int i) throws IOException {
        Slot s = slots.get(i);
        if (s.node != null) {
            throw new IllegalStateException("node " + i + " is running");
        }
        return startSlot(s);
    }

    /**
     * The nodes' membership stops, all at once (out of every view, deaf; what they send is held),
     * as SIGSTOP of their processes would look to the others after failure detection.
     */
    public void pause(int... nodes) {
        hub.pause(drivers(nodes));
    }

    /** SIGCONT: the nodes are back in the view, then send what they held. */
    public void resume(int... nodes) {
        hub.resume(drivers(nodes));
    }

    private List<LocalDriver> drivers(int[] nodes) {
        List<LocalDriver> d = new ArrayList<>();
        for (int i : nodes) {
            d.add(slots.get(i).driver);
        }
        return d;
    }

    /** Splits the cluster network into sides (node indices); nodes not named are on the first side. */
    public void partition(int[]... sides) {
        List<List<LocalDriver>> split = new ArrayList<>();
        for (int[] side : sides) {
            split.add(drivers(side));
        }
        hub.partition(split);
    }

    /** One network again: the sides' views merge, as JGroups' MERGE3 does. */
    public void heal() {
        hub.heal();
    }

    /** Waits until every running node is at the same epoch with all running nodes as members, serving. */
    public long awaitSettled(long millis) throws InterruptedException {
        return awaitSettled(millis, running());
    }

    /** {@link #awaitSettled(long)} for some nodes (one side of a partition). */
    public long awaitSettled(long millis, List<Node> live) throws InterruptedException {
        await("the cluster settles", millis, () -> {
            long e = live.get(0).epoch();
            for (Node n : live) {
                // The member list changes a moment before the epoch that records it.
                Epoch current = n.cluster().epoch();
                // ... and the placement (n.epoch()) a moment after the epoch log: all three must agree.
                if (n.epoch() != e || n.memberInfos().size() != live.size() || n.cluster().ioRefusal() != null
                        || (current != null && (current.members().size() != live.size() || current.number() != e))) {
                    return false;
                }
            }
            return true;
        });
        return live.get(0).epoch();
    }

    /** Waits until every running node has finished background recovery of the current epoch. */
    public void awaitRecovered(long millis) throws InterruptedException {
        await("every node has recovered", millis, () -> {
            List<Node> live = running();
            long e = live.get(0).epoch();
            return live.stream().allMatch(n -> n.epoch() == e && n.recoveryWorker().status().doneWith(e));
        });
    }

    /** The running nodes whose store holds {@code oid}, as HOST:PORT. */
    public List<String> holdersOnDisk(long oid) throws IOException {
        List<String> out = new ArrayList<>();
        for (Node n : running()) {
            if (n.store().exists(oid)) {
                out.add(n.selfInfo().address());
            }
        }
        return out;
    }

    public static void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    /** What every node thinks: members, epoch, VDIs and objects. */
    public String dump() {
        StringBuilder b = new StringBuilder("MiniCluster state:\n");
        for (Slot s : slots) {
            b.append("  node ").append(s.index).append(" port ").append(s.port);
            if (s.node == null) {
                b.append(": down\n");
                continue;
            }
            Node n = s.node;
            try {
                b.append(" id ").append(n.selfInfo().id()).append(": epoch ").append(n.epoch())
                        .append(", members ").append(n.memberInfos().stream().map(NodeInfo::toString).toList())
                        .append(", history ").append(n.cluster().history().stream().map(Epoch::number).toList())
                        .append(", refusal ").append(n.cluster().ioRefusal());
                if (n.formatted()) {
                    b.append(", vdis ").append(n.vdis().list().stream().map(v -> v.name()).toList());
                }
                b.append(", objects ").append(n.store().list().stream().map(ObjectIds::toHex).sorted().toList());
            } catch (Exception e) {
                b.append(" (dump failed: ").append(e).append(')');
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** Runs a test body; on failure, the dump is attached to the error. Always closes the cluster. */
    public void run(Body body) throws Exception {
        try {
            body.run(this);
        } catch (Throwable t) {
            t.addSuppressed(new AssertionError(dump()));
            System.err.println(dump());
            throw t;
        } finally {
            close();
        }
    }

    public interface Body {
        void run(MiniCluster c) throws Exception;
    }

    @Override
    public void close() {
        for (int i = slots.size() - 1; i >= 0; i--) {
            try {
                stop(i);
            } catch (RuntimeException e) {
                System.err.println("stopping node " + i + " failed: " + e);
            }
        }
    }

    ClusterDriver driver(int i) {
        return slots.get(i).driver;
    }
}
