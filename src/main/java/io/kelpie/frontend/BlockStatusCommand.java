package io.kelpie.frontend;

import io.kelpie.nbd.NbdBlockStatusChunk;
import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.vdi.AllocationDepth;
import io.kelpie.vdi.Vdi;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * NBD_CMD_BLOCK_STATUS: one chunk per context the session selected. base:allocation: unallocated
 * objects are HOLE|ZERO, allocated ones 0. qemu:allocation-depth: each extent's depth (0 hole, 1
 * the VDI's own object, 2+ an ancestor's), so qemu-img map tells a clone's data from its parent's.
 * Extents cover exactly the requested range (never beyond); REQ_ONE sends only the first of each.
 */
final class BlockStatusCommand implements NbdCommand {
    @Override
    public CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi) {
        boolean one = req.hasFlag(NBD_CMD_FLAG_REQ_ONE);
        List<NbdReply> chunks = new ArrayList<>(2);
        int depthId = session.allocationDepthContext();
        List<Vdi.Extent> extents = vdi.extents(req.offset(), req.length()); // also checks the range, for both
        if (session.baseAllocationContext() != 0) {
            int n = one ? 1 : extents.size();
            int[] lengths = new int[n];
            int[] flags = new int[n];
            for (int i = 0; i < n; i++) {
                Vdi.Extent e = extents.get(i);
                lengths[i] = (int) e.length(); // at most the request's u32 length
                flags[i] = e.allocated() ? 0 : NBD_STATE_HOLE | NBD_STATE_ZERO;
            }
            chunks.add(new NbdBlockStatusChunk(req.cookie(), depthId == 0, session.baseAllocationContext(), lengths, flags));
        }
        if (depthId != 0) {
            List<AllocationDepth.Extent> depth = AllocationDepth.of(vdi, req.offset(), req.length());
            int n = one ? 1 : depth.size();
            int[] lengths = new int[n];
            int[] depths = new int[n];
            for (int i = 0; i < n; i++) {
                lengths[i] = (int) depth.get(i).length();
                depths[i] = depth.get(i).depth();
            }
            chunks.add(new NbdBlockStatusChunk(req.cookie(), true, depthId, lengths, depths));
        }
        return CompletableFuture.completedFuture(chunks);
    }
}
