package io.kelpie.frontend;

import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.nbd.NbdSimpleReply;
import io.kelpie.vdi.Vdi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * NBD_CMD_CACHE: a hint. Objects are read from local files through the page cache, so there is
 * nothing to prefetch; the range was validated, the reply is success.
 */
final class CacheCommand implements NbdCommand {
    @Override
    public CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi) {
        return CompletableFuture.completedFuture(List.of(NbdSimpleReply.ok(req.cookie())));
    }
}
