package io.kelpie.frontend;

import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.nbd.NbdSimpleReply;
import io.kelpie.vdi.Vdi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * NBD_CMD_FLUSH: flushes the whole store, so every write any connection saw acknowledged is durable
 * (what CAN_MULTI_CONN promises).
 */
final class FlushCommand implements NbdCommand {
    @Override
    public CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi) {
        return vdi.flush().thenApply(v -> List.of(NbdSimpleReply.ok(req.cookie())));
    }
}
