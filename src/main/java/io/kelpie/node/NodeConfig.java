package io.kelpie.node;

import io.kelpie.cluster.ClusterManager;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.vdi.CatalogueOp;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.VdiManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The cluster config this node has installed and the VDI manager built for it. Both change in
 * cluster order only (a format, or the config a joiner adopts); a fresh format first wipes the
 * node's objects, so that every member starts the new cluster empty. The wipe must not hold up
 * the ordered thread: it only starts it (see {@link FencedStore#wipe}).
 */
final class NodeConfig implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeConfig.class);

    /** Starts removing every object of the local store; calls made from then on wait for it. */
    interface Wipe {
        void run() throws IOException;
    }

    private final Function<ClusterConfig, VdiManager> newVdis;
    private final Wipe wipe;
    private final Object lock = new Object();
    private volatile ClusterConfig config;
    private volatile VdiManager vdis;

    NodeConfig(Function<ClusterConfig, VdiManager> newVdis, Wipe wipe) {
        this.newVdis = newVdis;
        this.wipe = wipe;
    }

    /** Installs {@code c}; adopting the config already installed keeps its VDI manager. */
    void install(ClusterConfig c, boolean fresh) throws IOException {
        synchronized (lock) {
            ClusterConfig old = config;
            if (!fresh && old != null && old.clusterId().equals(c.clusterId()) && vdis != null) {
                return;
            }
            if (vdis != null) {
                vdis.close();
                vdis = null;
            }
            if (fresh) {
                wipe.run();
            }
            config = c;
            vdis = newVdis.apply(c);
            if (fresh) {
                log.info("formatted: cluster {} with {} copies; removing the local objects", c.clusterId(), c.copies());
            }
        }
    }

    /** The cluster config; fails with NOT_FORMATTED before {@code cluster format}. */
    ClusterConfig config() {
        ClusterConfig c = config;
        if (c == null) {
            throw notFormatted();
        }
        return c;
    }

    boolean formatted() {
        return config != null;
    }

    /** The VDIs; fails with NOT_FORMATTED before {@code cluster format}. */
    VdiManager vdis() {
        VdiManager v = vdis;
        if (v == null) {
            throw notFormatted();
        }
        return v;
    }

    /** The VDIs, or null before format (and for a moment while a format replaces them). */
    VdiManager current() {
        return vdis;
    }

    @Override
    public void close() {
        VdiManager v = vdis;
        if (v != null) {
            v.close();
        }
    }

    /**
     * Formats the whole cluster (every member wipes its objects, in cluster order) and waits for it.
     * Refused on a formatted cluster unless {@code force}; {@code minCopies} 0: a majority.
     */
    static ClusterConfig format(ClusterManager cluster, int copies, int minCopies, boolean force) throws IOException {
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

    /** Applies a catalogue operation in cluster order (the VDI manager's ordering) and waits for its result. */
    static Object ordered(ClusterManager cluster, CatalogueOp op) {
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

    private static KelpieException notFormatted() {
        return new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted (run 'kelpie cluster format')");
    }
}
