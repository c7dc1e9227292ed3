package io.kelpie.node;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.frontend.NbdServer;
import io.kelpie.metrics.NodeProbe;
import io.kelpie.recovery.RecoveryStatus;
import io.kelpie.recovery.RecoveryWorker;
import io.kelpie.store.ObjectStore;

import java.io.IOException;

/**
 * The node as the metrics read it at scrape time: recovery progress as {@code node recovery}
 * reports it, the store's space as {@code node info} does, and whether an export still exists.
 * Every read is a snapshot of counters or of the in-memory catalogue; none waits on the cluster.
 */
final class NodeGauges implements NodeProbe {
    private final Node node;

    NodeGauges(Node node) {
        this.node = node;
    }

    private RecoveryStatus recovery() {
        RecoveryWorker w = node.recoveryWorker();
        return w == null ? RecoveryStatus.IDLE : w.status();
    }

    @Override
    public long recoveryObjectsRemaining() {
        RecoveryStatus s = recovery();
        return Math.max(0, s.objectsTotal() - s.objectsDone());
    }

    @Override
    public long recoveryBytesRemaining() {
        RecoveryStatus s = recovery();
        return Math.max(0, s.bytesTotal() - s.bytesDone());
    }

    @Override
    public boolean recoveryRunning() {
        return recovery().state() == RecoveryStatus.State.RUNNING;
    }

    @Override
    public Space space() throws IOException {
        ObjectStore.StoreStats s = node.store().stats();
        return new Space(s.used(), s.free(), s.objects());
    }

    @Override
    public int nbdConnections() {
        NbdServer n = node.nbdServer();
        return n == null ? 0 : n.openConnections();
    }

    @Override
    public boolean exportExists(String exportName) {
        if (!node.formatted()) {
            return false; // a format wiped every VDI
        }
        try {
            node.vdis().lookup(exportName);
            return true;
        } catch (KelpieException e) {
            return e.status() != Status.NO_VDI && e.status() != Status.NOT_FORMATTED;
        }
    }
}
