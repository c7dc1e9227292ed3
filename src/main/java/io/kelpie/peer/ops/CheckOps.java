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
import java.util.HashMap;
import java.util.LinkedHashMap;
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
        return run(service, 1, targets(vdis, in, true, placeholders(vdis)));
    });

    static final PeerOp<CheckService> CLUSTER = (service, req, ex) -> Blocking.on(ex, () -> {
        VdiManager vdis = service.vdis();
        List<Inode> all = vdis.list();
        Map<Integer, Inode> placeholders = placeholders(vdis);
        Map<Long, Target> targets = new LinkedHashMap<>(); // a placeholder's object read by two VDIs is checked once
        for (Inode in : all) {
            for (Target t : targets(vdis, in, false, placeholders)) {
                targets.putIfAbsent(t.oid(), t);
            }
        }
        return run(service, all.size(), new ArrayList<>(targets.values()));
    });

    /** Deleted VDIs and snapshots by id: their objects that live VDIs still read are checked as those VDIs' data. */
    private static Map<Integer, Inode> placeholders(VdiManager vdis) {
        Map<Integer, Inode> out = new HashMap<>();
        for (Inode in : vdis.all()) {
            if (in.deleted()) {
                out.put(in.vdiId(), in);
            }
        }
        return out;
    }

    /**
     * The inode and the data objects this VDI owns, and those it reads of deleted ancestors (with
     * their inode objects, which reclaims read): nobody else checks them. Objects shared with a
     * live snapshot are that snapshot's to check.
     */
    static List<Target> targets(VdiManager vdis, Inode in, boolean strict, Map<Integer, Inode> placeholders) {
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
        java.util.Set<Integer> ancestors = new java.util.TreeSet<>();
        table.forEach((index, owner) -> {
            Inode dead = placeholders.get(owner);
            if (owner == in.vdiId()) {
                out.add(new Target(ObjectIds.dataOid(owner, index), in.copies()));
            } else if (dead != null) {
                out.add(new Target(ObjectIds.dataOid(owner, index), dead.copies()));
                ancestors.add(owner);
            }
        });
        for (int vid : ancestors) {
            out.add(new Target(ObjectIds.inodeOid(vid), placeholders.get(vid).copies()));
        }
        return out;
    }

    private static io.netty.buffer.ByteBuf run(CheckService service, int vdiCount, List<Target> targets) throws InterruptedException {
        CheckReport report = service.checker(PARALLEL).check(vdiCount, targets);
        WireWriter w = new WireWriter(Unpooled.buffer());
        report.write(w);
        return w.buf();
    }
}
