package io.kelpie.nbd;

import io.netty.channel.ChannelHandler;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The exports a server offers, as the handshake sees them. Lookups may block on storage, so they
 * are asynchronous: the handshake never waits on an event loop. A failed future means the export is
 * not available; its message is shown to the client, as NBD_REP_ERR_UNKNOWN unless the failure is an
 * {@link NbdExportRefused} naming another reply type.
 */
public interface NbdExports {
    /** The exports {@code client} may see, for NBD_OPT_LIST. */
    CompletableFuture<List<NbdExportInfo>> list(NbdClient client);

    /**
     * The export a client's name (possibly empty: the default export) refers to; one the client
     * may not use fails (NBD_REP_ERR_POLICY).
     */
    CompletableFuture<NbdExportInfo> find(String name, NbdClient client);

    /** Opens the export for transmission (NBD_OPT_GO, NBD_OPT_EXPORT_NAME), if {@code client} may use it. */
    CompletableFuture<NbdExport> open(String name, NbdClient client);

    /** The handler serving decoded {@link NbdRequest}s of a session that entered transmission. */
    ChannelHandler transmissionHandler(NbdSession session);
}
