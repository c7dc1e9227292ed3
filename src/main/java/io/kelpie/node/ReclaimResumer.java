package io.kelpie.node;

import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.vdi.VdiManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Finishes the reclaims of deleted VDIs that a crash interrupted without waiting for the next
 * delete: after every epoch (a node started, joined, left or crashed) the first member of the
 * epoch resumes them on a thread of its own, never on the ordered thread. One member is enough
 * and spares the others the table reads; a placeholder claimed by a delete in progress elsewhere
 * is left to that delete (see {@code Reclaimer}).
 */
final class ReclaimResumer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReclaimResumer.class);

    private final Supplier<VdiManager> vdis;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(Threads.named("kelpie-reclaim"));
    private final AtomicBoolean queued = new AtomicBoolean();

    /** {@code vdis} supplies null before format. */
    ReclaimResumer(Supplier<VdiManager> vdis) {
        this.vdis = vdis;
    }

    /** On the ordered thread: schedules a resume if {@code self} is the epoch's first member. Never blocks. */
    void epochChanged(Epoch epoch, NodeInfo self) {
        if (epoch.members().isEmpty() || !epoch.members().get(0).id().equals(self.id())) {
            return;
        }
        if (!queued.compareAndSet(false, true)) {
            return; // one is queued: it reads the catalogue when it runs
        }
        try {
            thread.execute(this::resume);
        } catch (RejectedExecutionException e) {
            queued.set(false); // stopping
        }
    }

    private void resume() {
        queued.set(false);
        VdiManager v = vdis.get();
        if (v == null) {
            return;
        }
        try {
            int released = v.resumeReclaims();
            if (released > 0) {
                log.info("finished {} interrupted delete(s)", released);
            }
        } catch (RuntimeException e) {
            log.warn("resuming interrupted deletes failed (tried again at the next epoch): {}", KelpieException.messageOf(e));
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
