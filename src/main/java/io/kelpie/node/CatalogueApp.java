package io.kelpie.node;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import io.kelpie.common.ObjectIds;
import io.kelpie.config.ClusterConfig;
import io.kelpie.gateway.Gateway;
import io.kelpie.store.ObjectStore;
import io.kelpie.vdi.CatalogueOp;
import io.kelpie.vdi.VdiManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The node's side of the cluster's ordered stream: format wipes the local store and starts an
 * empty catalogue; catalogue operations are applied to this node's {@link VdiManager} (a pure,
 * in-memory decision) and the catalogue is saved to {@code DATA/catalogue} by a background
 * {@link CatalogueWriter}, so a node that restarts alone still knows every VDI (it holds only
 * some of the inode objects) and the ordered thread never waits for the disk to do so.
 */
final class CatalogueApp implements ClusterManager.Application, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CatalogueApp.class);
    static final String CATALOGUE = "catalogue";

    private final Node node;
    private final CatalogueWriter writer;
    private final ReclaimResumer reclaims;

    CatalogueApp(Node node) {
        this.node = node;
        this.writer = new CatalogueWriter(() -> node.vdis().snapshot(),
                bytes -> node.dataDir().writeAtomically(CATALOGUE, out -> out.write(bytes)));
        this.reclaims = new ReclaimResumer(() -> node.formatted() ? node.vdis() : null,
                () -> new io.kelpie.check.LiveView(node.cluster(), node::recoveryWorker).recoveryIdle());
    }

    @Override
    public void formatted(ClusterConfig config, boolean fresh) {
        try {
            node.installConfig(config, fresh);
            if (fresh) {
                writer.changed();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot apply the cluster format locally", e);
        }
    }

    @Override
    public void epochChanged(Epoch epoch, Ring ring, java.util.List<Epoch> unseen) {
        log.info("epoch {}: {} node(s), {} zone(s)", epoch.number(), epoch.members().size(), ring.zones());
        // A node that left (or crashed) has no VDI open any more: its locks go, on every node alike.
        if (node.formatted()) {
            node.vdis().retainLocks(epoch.members().stream().map(NodeInfo::toString).collect(java.util.stream.Collectors.toSet()));
            reclaims.epochChanged(epoch, node.selfInfo()); // deletes a crash interrupted, on a thread of its own
        }
        if (node.recoveryWorker() != null) {
            node.recoveryWorker().epochChanged(epoch.number()); // hands it over; recovery runs on its own thread
        }
    }

    @Override
    public Object apply(NodeInfo sender, byte[] op) throws Exception {
        CatalogueOp c = CatalogueOp.decode(op);
        Object result = node.vdis().apply(c);
        switch (c.kind()) {
            case LOCK, UNLOCK, BARRIER -> { } // locks are not saved: after a restart nothing is open
            default -> writer.changed();
        }
        return result;
    }

    @Override
    public byte[] snapshot() {
        // For a joiner: the VDIs open on other nodes too. The saved file (save()) has no locks.
        return node.vdis().snapshotWithLocks();
    }

    @Override
    public void restore(byte[] snapshot) {
        node.vdis().restore(snapshot);
        writer.changed();
    }

    /** Waits until the catalogue file has every change applied so far (tests, shutdown). */
    void flush() {
        writer.flush();
    }

    @Override
    public void close() {
        reclaims.close();
        writer.close();
    }

    /**
     * At start, before the node joins: loads the saved catalogue into the node's VDIs. A directory
     * from before the cluster layer has none: its inode objects are scanned (through {@code local},
     * the local replica) and the result saved.
     */
    void load(ClusterConfig c, Gateway local, ObjectStore store) throws IOException {
        Path p = node.dataDir().resolve(CATALOGUE);
        if (Files.exists(p)) {
            node.vdis().restore(Files.readAllBytes(p));
            return;
        }
        VdiManager scan = new VdiManager(local, node.alloc(), c.copies(), c.blockSizeShift());
        scan.recover(store.list().stream().filter(ObjectIds::isInode).toList());
        node.vdis().restore(scan.snapshot());
        scan.close();
        save();
    }

    /** Saves the catalogue now, on the calling thread (at start, before the node joins). */
    void save() {
        byte[] bytes = node.vdis().snapshot();
        try {
            node.dataDir().writeAtomically(CATALOGUE, out -> out.write(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the VDI catalogue", e);
        }
    }
}
