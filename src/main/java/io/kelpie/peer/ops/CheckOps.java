package io.kelpie.peer.ops;

import io.kelpie.check.CheckReport;
import io.kelpie.check.Checker.Target;
import io.kelpie.common.KelpieException;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.vdi.Inode;
import io.kelpie.common.ObjectIds;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * VDI_CHECK(name) and CLUSTER_CHECK -> {@link CheckReport}: compare and repair every replica of
 * every object of one VDI (its inode and the data objects it owns) or of every VDI. Runs on the
 * admin executor (it waits for the whole check); the response is one payload with every line.
 */
final class CheckOps {
    /** Objects checked at once: each asks every member, so this bounds the load on each node. */
    static final int PARALLEL = 8;

    private CheckOps() {
    }

    static final PeerOp<CheckService> VDI = (service, req, ex) -> Blocking.on(ex, () -> {
        String name = new WireReader(req.payload().duplicate()).string();
        VdiManager vdis = service.vdis();
        Inode in = vdis.find(name);
        return run(service, 1, targets(vdis, in, true));
    });

    static final PeerOp<CheckService> CLUSTER = (service, req, ex) -> Blocking.on(ex, () -> {
        VdiManager vdis = service.vdis();
        List<Inode> all = vdis.list();
        List<Target> targets = new ArrayList<>();
        for (Inode in : all) {
            targets.addAll(targets(vdis, in, false));
        }
        return run(service, all.size(), targets);
    });

    /** The inode and the data objects this VDI owns (objects shared with a parent are the parent's to check). */
    static List<Target> targets(VdiManager vdis, Inode in, boolean strict) {
        List<Target> out = new ArrayList<>();
        if (vdis.unsealed(in.vdiId())) {
            // Its writer stopped before writing its inode object (it may not exist): the VDI owns
            // nothing yet, and its first open writes the inode (see vdi.NewInodes).
            return out;
        }
        out.add(new Target(ObjectIds.inodeOid(in.vdiId()), in.copies()));
        Map<Long, Integer> table;
        try {
            table = vdis.allocatedObjects(in);
        } catch (KelpieException e) {
            if (strict) {
                throw e;
            }
            return out; // a snapshot without a tag cannot be looked up by name: its inode only
        }
        table.forEach((index, owner) -> {
            if (owner == in.vdiId()) {
                out.add(new Target(ObjectIds.dataOid(owner, index), in.copies()));
            }
        });
        return out;
    }

    private static io.netty.buffer.ByteBuf run(CheckService service, int vdiCount, List<Target> targets) throws InterruptedException {
        CheckReport report = service.checker(PARALLEL).check(vdiCount, targets);
        WireWriter w = new WireWriter(Unpooled.buffer());
        report.write(w);
        return w.buf();
    }
}
