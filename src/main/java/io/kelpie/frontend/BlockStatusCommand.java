package io.kelpie.frontend;

import io.kelpie.nbd.NbdBlockStatusChunk;
import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.vdi.Vdi;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * NBD_CMD_BLOCK_STATUS for base:allocation: unallocated objects are HOLE|ZERO, allocated ones 0.
 * Extents cover exactly the requested range (never beyond); REQ_ONE sends only the first.
 */
final class BlockStatusCommand implements NbdCommand {
    @Override
    public CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi) {
        List<Vdi.Extent> extents = vdi.extents(req.offset(), req.length());
        int n = req.hasFlag(NBD_CMD_FLAG_REQ_ONE) ? 1 : extents.size();
        int[] lengths = new int[n];
        int[] flags = new int[n];
        for (int i = 0; i < n; i++) {
            Vdi.Extent e = extents.get(i);
            lengths[i] = (int) e.length(); // at most the request's u32 length
            flags[i] = e.allocated() ? 0 : NBD_STATE_HOLE | NBD_STATE_ZERO;
        }
        return CompletableFuture.completedFuture(
                List.of(new NbdBlockStatusChunk(req.cookie(), true, session.baseAllocationContext(), lengths, flags)));
    }
}
