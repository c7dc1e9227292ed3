package io.kelpie.frontend;

import io.kelpie.metrics.VdiRecorder;
import io.kelpie.nbd.NbdExport;
import io.kelpie.nbd.NbdExportInfo;
import io.kelpie.vdi.Vdi;

import java.util.concurrent.Executor;

/** A VDI handle opened for one NBD connection; closing releases the shared handle once. */
final class VdiExport implements NbdExport {
    private final Vdi vdi;
    private final NbdExportInfo info;
    private final Executor closer;
    private final Runnable onReleased;
    private final VdiRecorder recorder;
    private boolean closed;

    VdiExport(Vdi vdi, NbdExportInfo info, Executor closer, Runnable onReleased, VdiRecorder recorder) {
        this.vdi = vdi;
        this.info = info;
        this.closer = closer;
        this.onReleased = onReleased;
        this.recorder = recorder;
    }

    /** Where this export's requests are counted (shared with its other connections). */
    VdiRecorder recorder() {
        return recorder;
    }

    Vdi vdi() {
        return vdi;
    }

    @Override
    public NbdExportInfo info() {
        return info;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            // The last release gives up the VDI's claim in cluster order: a round trip, never on an event loop.
            Runnable release = () -> {
                try {
                    vdi.close();
                } finally {
                    onReleased.run();
                }
            };
            try {
                closer.execute(release);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                java.util.concurrent.CompletableFuture.runAsync(release); // the server's executor is gone: shutting down
            }
        }
    }
}
