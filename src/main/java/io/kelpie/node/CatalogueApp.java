package io.kelpie.node;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import io.kelpie.config.ClusterConfig;
import io.kelpie.vdi.CatalogueOp;
import io.kelpie.vdi.VdiManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The node's side of the cluster's ordered stream: format wipes the local store and starts an
 * empty catalogue; catalogue operations are applied to this node's {@link VdiManager} and the
 * catalogue is saved to {@code DATA/catalogue}, so a node that restarts alone still knows every
 * VDI (it holds only some of the inode objects).
 */
final class CatalogueApp implements ClusterManager.Application {
    private static final Logger log = LoggerFactory.getLogger(CatalogueApp.class);
    static final String CATALOGUE = "catalogue";

    private final Node node;

    CatalogueApp(Node node) {
        this.node = node;
    }

    @Override
    public void formatted(ClusterConfig config, boolean fresh) {
        try {
            node.installConfig(config, fresh);
            if (fresh) {
                save();
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
            default -> save();
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
        save();
    }

    void save() {
        byte[] bytes = node.vdis().snapshot();
        try {
            node.dataDir().writeAtomically(CATALOGUE, out -> out.write(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the VDI catalogue", e);
        }
    }
}
