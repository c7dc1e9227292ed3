package io.kelpie.frontend;

import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.nbd.NbdSimpleReply;
import io.kelpie.vdi.Vdi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.kelpie.nbd.NbdConstants.NBD_CMD_FLAG_FUA;

/** NBD_CMD_TRIM: whole objects are freed; the rest of the range reads back as zeros. */
final class TrimCommand implements NbdCommand {
    @Override
    public CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi) {
        return vdi.trim(req.offset(), req.length(), req.hasFlag(NBD_CMD_FLAG_FUA))
                .thenApply(v -> List.of(NbdSimpleReply.ok(req.cookie())));
    }
}
