package io.kelpie.frontend;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.nbd.NbdSimpleReply;
import io.kelpie.vdi.Vdi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * NBD_CMD_WRITE_ZEROES: may punch holes unless NO_HOLE. With FAST_ZERO it fails at once with
 * ENOTSUP, touching nothing, when zeroing would mean writing data (unallocated objects under
 * NO_HOLE).
 */
final class WriteZeroesCommand implements NbdCommand {
    @Override
    public CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi) {
        boolean mayTrim = !req.hasFlag(NBD_CMD_FLAG_NO_HOLE);
        if (req.hasFlag(NBD_CMD_FLAG_FAST_ZERO) && !vdi.zeroIsFast(req.offset(), req.length(), mayTrim)) {
            return CompletableFuture.failedFuture(new KelpieException(Status.UNSUPPORTED,
                    "zeroing this range would be as slow as writing it"));
        }
        return vdi.zero(req.offset(), req.length(), req.hasFlag(NBD_CMD_FLAG_FUA), mayTrim)
                .thenApply(v -> List.of(NbdSimpleReply.ok(req.cookie())));
    }
}
