package io.kelpie.vdi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each range of an open VDI's data comes from, as qemu's {@code qemu:allocation-depth}
 * reports it: 0 unallocated, 1 the VDI's own object, 2 and more an ancestor's, counted along the
 * parent chain (a working VDI's parent is its last snapshot, a clone's the snapshot it came from).
 * The table names the owner of every object, so the depth is the owner's distance up the chain.
 * In-memory only (the table and the catalogue), so it is safe on an event loop.
 */
public final class AllocationDepth {
    /** Never walk further than this: a cycle in a damaged catalogue must not hang a client. */
    private static final int MAX_CHAIN = 1 << 16;

    private AllocationDepth() {
    }

    /** A run of bytes at one depth. */
    public record Extent(long offset, long length, int depth) {
    }

    /** The depth map of {@code [offset, offset+length)}, adjacent runs of one depth merged. */
    public static List<Extent> of(Vdi vdi, long offset, long length) {
        Inode in = vdi.inode();
        long end = Math.min(offset + length, in.size());
        Map<Integer, Integer> depthOf = new HashMap<>();
        List<Extent> out = new ArrayList<>();
        long pos = offset;
        while (pos < end) {
            long idx = pos >>> in.blockSizeShift();
            long next = Math.min(end, (idx + 1) << in.blockSizeShift());
            int owner = vdi.table().get(idx);
            int depth = owner == 0 ? 0 : depthOf.computeIfAbsent(owner, o -> distance(vdi.manager(), in, o));
            Extent last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.depth() == depth) {
                out.set(out.size() - 1, new Extent(last.offset(), next - last.offset(), depth));
            } else {
                out.add(new Extent(pos, next - pos, depth));
            }
            pos = next;
        }
        return out;
    }

    /** 1 for {@code in} itself, 2 for its parent, ...; an owner not on the chain counts as one past its end. */
    static int distance(VdiManager vdis, Inode in, int owner) {
        Inode cur = in;
        int depth = 1;
        while (cur != null && cur.vdiId() != owner && depth < MAX_CHAIN) {
            cur = cur.parentVdiId() == 0 ? null : vdis.byId(cur.parentVdiId());
            depth++;
        }
        return depth;
    }
}
