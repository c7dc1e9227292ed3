package io.kelpie.frontend;

import io.kelpie.nbd.NbdExport;
import io.kelpie.nbd.NbdExportInfo;
import io.kelpie.vdi.Vdi;

import java.util.concurrent.Executor;

/** A VDI handle opened for one NBD connection; closing releases the shared handle once. */
final class VdiExport implements NbdExport {
    private final Vdi vdi;
    private final NbdExportInfo info;
    private final Executor closer;
    private boolean closed;

    VdiExport(Vdi vdi, NbdExportInfo info, Executor closer) {
        this.vdi = vdi;
        this.info = info;
        this.closer = closer;
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
            // Releasing takes the VdiManager lock, which metadata operations hold while doing I/O.
            try {
                closer.execute(vdi::close);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                vdi.close(); // the server is shutting down: no lookups compete for the lock
            }
        }
    }
}
