package io.kelpie.frontend;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Sizes;
import io.kelpie.common.Status;
import io.kelpie.metrics.NbdMetrics;
import io.kelpie.nbd.NbdClient;
import io.kelpie.nbd.NbdConstants;
import io.kelpie.nbd.NbdExport;
import io.kelpie.nbd.NbdExportInfo;
import io.kelpie.nbd.NbdExportRefused;
import io.kelpie.nbd.NbdExports;
import io.kelpie.nbd.NbdSession;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.Vdi;
import io.kelpie.vdi.VdiManager;
import io.netty.channel.ChannelHandler;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * Every VDI of the node as an NBD export: {@code NAME} for the writable VDI, {@code NAME@TAG} (or
 * {@code NAME@SNAPID} for an untagged snapshot) for read-only snapshots. Catalogue calls block, so
 * they run on {@code executor}, never on an event loop.
 *
 * <p>The empty export name (the protocol's "default export", what {@code nbd://host} asks for) is
 * the node's only writable VDI when there is exactly one; otherwise it is unknown and the error
 * lists how many VDIs there are, so a user learns to name one. Guessing among several would risk
 * writing to the wrong disk.
 */
final class VdiExports implements NbdExports {
    private final Supplier<VdiManager> vdis;
    private final ExecutorService executor;
    private final NbdMetrics metrics;
    /** Exports opened and not yet released; the server waits for 0 before the node closes VDIs. */
    private int open;

    /**
     * @param vdis    the node's VDIs, null while the cluster is not formatted
     * @param metrics where each export's requests are counted (its recorder looked up on open, off the event loop)
     */
    VdiExports(Supplier<VdiManager> vdis, ExecutorService executor, NbdMetrics metrics) {
        this.vdis = vdis;
        this.executor = executor;
        this.metrics = metrics;
    }

    /** The VDIs and snapshots {@code client} may open: the others are not even listed. */
    @Override
    public CompletableFuture<List<NbdExportInfo>> list(NbdClient client) {
        return CompletableFuture.supplyAsync(() -> {
            VdiManager m = vdis.get();
            return m == null ? List.<NbdExportInfo>of()
                    : m.list().stream().filter(in -> !in.deleted() && VdiAccess.permits(m, in, client))
                    .map(VdiExports::info).toList();
        }, executor);
    }

    @Override
    public CompletableFuture<NbdExportInfo> find(String name, NbdClient client) {
        return CompletableFuture.supplyAsync(() -> {
            Inode in = resolve(name);
            VdiAccess.check(manager(), in, client);
            return info(in);
        }, executor);
    }

    @Override
    public CompletableFuture<NbdExport> open(String name, NbdClient client) {
        return CompletableFuture.supplyAsync(() -> {
            Inode in = resolve(name);
            VdiAccess.check(manager(), in, client); // before the open: a refused client claims nothing
            Vdi vdi;
            try {
                vdi = manager().open(exportName(in));
            } catch (KelpieException e) {
                // In use on another node: a policy refusal, not an unknown export.
                if (e.status() == Status.VDI_LOCKED) {
                    throw new NbdExportRefused(NbdConstants.NBD_REP_ERR_POLICY, e.getMessage());
                }
                throw e;
            }
            try {
                opened();
                NbdExportInfo info = info(vdi.inode());
                return new VdiExport(vdi, info, executor, this::released, metrics.export(info.name()));
            } catch (RuntimeException e) {
                vdi.close();
                throw e;
            }
        }, executor);
    }

    @Override
    public ChannelHandler transmissionHandler(NbdSession session) {
        VdiExport e = (VdiExport) session.export();
        return new NbdTransmissionHandler(session, e.vdi(), e.recorder());
    }

    private synchronized void opened() {
        open++;
    }

    private synchronized void released() {
        open--;
        notifyAll();
    }

    /** Waits until every opened export was released (its connection's I/O finished); false on timeout. */
    synchronized boolean awaitReleased(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (open > 0) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    private VdiManager manager() {
        VdiManager m = vdis.get();
        if (m == null) {
            throw new KelpieException(Status.NOT_FORMATTED, "the cluster is not formatted (run 'kelpie cluster format')");
        }
        return m;
    }

    private Inode resolve(String name) {
        VdiManager vdis = manager();
        if (!name.isEmpty()) {
            return vdis.find(name);
        }
        List<Inode> writable = vdis.list().stream().filter(in -> !in.isSnapshot() && !in.deleted()).toList();
        if (writable.size() == 1) {
            return writable.get(0);
        }
        throw new KelpieException(Status.NO_VDI, "no default export: this node has " + writable.size()
                + " writable VDIs, name one (nbd://HOST:PORT/NAME)");
    }

    static String exportName(Inode in) {
        if (!in.isSnapshot()) {
            return in.name();
        }
        return in.name() + "@" + (in.tag().isEmpty() ? String.valueOf(in.snapId()) : in.tag());
    }

    static NbdExportInfo info(Inode in) {
        String what = in.isSnapshot() ? "read-only snapshot of '" + in.name() + "'" : "VDI";
        String description = "Kelpie " + what + ", " + Sizes.format(in.size()) + ", " + in.copies()
                + (in.copies() == 1 ? " copy" : " copies");
        return new NbdExportInfo(exportName(in), description, in.size(), in.isSnapshot());
    }
}
