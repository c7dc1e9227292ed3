package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages.ObjectInfo;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.vdi.Inode;
import io.kelpie.common.ObjectIds;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.List;
import java.util.Map;

/** Admin opcodes on the VDI catalogue (blocking VdiManager calls on the admin executor). */
final class VdiOps {
    private VdiOps() {
    }

    /** VDI_CREATE(name, i64 size, i32 copies or 0 for the cluster's) -> VdiInfo. */
    static final PeerOp<VdiService> CREATE = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String name = r.string();
        long size = r.i64();
        int copies = r.i32();
        if (copies < 0) {
            throw new KelpieException(Status.INVALID, "copies must be between 1 and " + Inode.MAX_COPIES);
        }
        Inode in = service.vdis().create(name, size, copies);
        return one(service.vdis(), in);
    });

    /** VDI_LIST([name]) -> i32 n, n x VdiInfo; with a name only that VDI (NO_VDI if absent). */
    static final PeerOp<VdiService> LIST = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        VdiManager vdis = service.vdis();
        List<Inode> inodes = r.hasMore() ? List.of(vdis.find(r.string())) : vdis.list();
        WireWriter w = new WireWriter(Unpooled.buffer());
        w.i32(inodes.size());
        for (Inode in : inodes) {
            info(vdis, in).write(w);
        }
        return w.buf();
    });

    /** VDI_DELETE(name). */
    static final PeerOp<VdiService> DELETE = (service, req, ex) -> Blocking.noResult(ex, () ->
            service.vdis().delete(new WireReader(req.payload().duplicate()).string()));

    /** VDI_RESIZE(name, i64 size) -> VdiInfo. */
    static final PeerOp<VdiService> RESIZE = (service, req, ex) -> Blocking.on(ex, () -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String name = r.string();
        long size = r.i64();
        return one(service.vdis(), service.vdis().resize(name, size));
    });

    /**
     * VDI_OBJECT(name; offset = object index, or flag ALL) -> i32 n, n x ObjectInfo of the allocated
     * objects (none when the index is a hole).
     */
    static final PeerOp<VdiService> OBJECT = (service, req, ex) -> Blocking.on(ex, () -> {
        String name = new WireReader(req.payload().duplicate()).string();
        VdiManager vdis = service.vdis();
        Inode in = vdis.find(name);
        boolean all = req.hasFlag(PeerConstants.FLAG_ALL);
        if (!all && (req.offset() < 0 || req.offset() >= Math.max(1, in.objectCount()))) {
            throw new KelpieException(Status.INVALID, "object index " + req.offset() + " is beyond VDI '" + name
                    + "', which has " + in.objectCount() + " objects (0.." + (in.objectCount() - 1) + ")");
        }
        Map<Long, Integer> allocated = vdis.allocatedObjects(name);
        WireWriter w = new WireWriter(Unpooled.buffer());
        List<Map.Entry<Long, Integer>> chosen = allocated.entrySet().stream()
                .filter(e -> all || e.getKey() == req.offset()).toList();
        w.i32(chosen.size());
        for (Map.Entry<Long, Integer> e : chosen) {
            long oid = ObjectIds.dataOid(e.getValue(), e.getKey());
            // Where the ring of the current epoch places the object, with the copies of its VDI.
            List<String> holders = service.holders(oid, in.copies());
            new ObjectInfo(e.getKey(), oid, e.getValue(), ownerName(vdis, e.getValue()), holders).write(w);
        }
        return w.buf();
    });

    static ByteBuf one(VdiManager vdis, Inode in) {
        WireWriter w = new WireWriter(Unpooled.buffer());
        info(vdis, in).write(w);
        return w.buf();
    }

    static VdiInfo info(VdiManager vdis, Inode in) {
        long own = 0;
        long shared = 0;
        try {
            for (int owner : vdis.allocatedObjects(in).values()) {
                if (owner == in.vdiId()) {
                    own++;
                } else {
                    shared++;
                }
            }
        } catch (KelpieException e) {
            own = -1; // its inode could not be read: the counts are unknown
        }
        return new VdiInfo(in.name(), in.tag(), in.vdiId(), in.size(), in.copies(), in.createTime(), in.snapCtime(),
                in.snapId(), in.parentVdiId(), in.blockSizeShift(), own, shared);
    }

    private static String ownerName(VdiManager vdis, int vid) {
        for (Inode in : vdis.list()) {
            if (in.vdiId() == vid) {
                return in.displayName();
            }
        }
        return "";
    }

}
