package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The node's side of snapshot, clone and rollback: {@link Lineage} decides in cluster order, this
 * class does the I/O around the decision (pausing writes, writing the new inode with its copied
 * table, reclaiming what a rollback replaced). Blocking: on admin threads only.
 */
final class Lineages {
    private static final Logger log = LoggerFactory.getLogger(Lineages.class);

    private final VdiManager manager;
    private final Catalogue catalogue;
    private final InodeObjects inodeObjects;
    private final Reclaimer reclaimer;
    private final NewInodes newInodes;

    Lineages(VdiManager manager, Catalogue catalogue, InodeObjects inodeObjects, Reclaimer reclaimer, NewInodes newInodes) {
        this.manager = manager;
        this.catalogue = catalogue;
        this.inodeObjects = inodeObjects;
        this.reclaimer = reclaimer;
        this.newInodes = newInodes;
    }

    /**
     * Takes a snapshot of a working VDI: this node claims it (or shares its open handle), pauses its
     * writes and lets those in flight finish, orders the snapshot (the current inode becomes
     * snapshot {@code tag}, the handle moves to the new working inode), writes the new inode with
     * the table copied, seals it, and only then lets the queued writes go on into the new inode,
     * copy-on-write. Writes acknowledged before this call are in the snapshot, the ones after are
     * not; should this node die before the seal, the new inode reads as the snapshot's table, which
     * is the same (see {@link NewInodes}).
     */
    Lineage.Snapshot snapshot(String name, String tag) {
        if (name.indexOf('@') >= 0) {
            throw new KelpieException(Status.INVALID, "'" + name + "' is a snapshot; snapshot its VDI instead");
        }
        Lineage.validateTag(tag);
        Vdi vdi = manager.open(name);
        try {
            WriteGate gate = vdi.gate();
            CompletableFuture<Void> drained = gate.pause();
            try {
                InodeObjects.join(drained.orTimeout(30, TimeUnit.SECONDS));
                Lineage.Snapshot s = (Lineage.Snapshot) manager.order(CatalogueOp.snapshot(name, tag, System.currentTimeMillis(), manager.self()));
                manager.crashPoint().afterOrdered(CatalogueOp.Kind.SNAPSHOT, s.current());
                // The handle moved to the new id: local opens share it, so nobody else writes its inode.
                inodeObjects.createWithTable(s.current(), entries(vdi.table(), s.current().objectCount()));
                inodeObjects.writeHeader(s.snapshot(), true);
                manager.order(CatalogueOp.seal(s.current().vdiId(), manager.self(), false));
                log.info("snapshot {} (id {}) of VDI {}; the VDI goes on as id {}", s.snapshot().displayName(),
                        s.snapshot().snapId(), name, Integer.toHexString(s.current().vdiId()));
                return s;
            } finally {
                gate.resume();
            }
        } finally {
            vdi.close();
        }
    }

    /** A new VDI {@code name} whose parent is the snapshot {@code source} (NAME@TAG), sharing its objects. */
    Inode cloneOf(String source, String name, int copies) {
        CatalogueRules.validateName(name);
        CatalogueRules.checkCopies(copies);
        Inode c = (Inode) manager.order(CatalogueOp.clone(source, name, copies, System.currentTimeMillis(), manager.self()));
        manager.crashPoint().afterOrdered(CatalogueOp.Kind.CLONE, c);
        try {
            Inode src = catalogue.byId(c.parentVdiId());
            newInodes.writeAndSeal(c, inodeObjects.loadEntries(src, false));
        } catch (KelpieException e) {
            manager.unlock(c.vdiId());
            try {
                manager.order(CatalogueOp.delete(name));
                manager.order(CatalogueOp.release(c.vdiId()));
            } catch (KelpieException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
        log.info("cloned VDI {} (id {}) from {}", name, Integer.toHexString(c.vdiId()), source);
        return c;
    }

    /** The working VDI {@code name} goes back to snapshot {@code tag}'s content; refused while a client has it open. */
    Inode rollback(String name, String tag) {
        Inode cur = catalogue.lookup(name);
        Vdi handle = manager.openHandle(cur.vdiId());
        if (handle != null) {
            throw new KelpieException(Status.VDI_LOCKED, "VDI '" + name + "' is in use by " + handle.refs.get()
                    + " client(s) on this node; disconnect them first");
        }
        Lineage.Rollback r = (Lineage.Rollback) manager.order(
                CatalogueOp.rollback(name, name + "@" + tag, System.currentTimeMillis(), manager.self()));
        manager.crashPoint().afterOrdered(CatalogueOp.Kind.ROLLBACK, r.current());
        try {
            newInodes.writeAndSeal(r.current(), inodeObjects.loadEntries(catalogue.byId(r.current().parentVdiId()), false));
        } catch (KelpieException e) {
            manager.unlock(r.current().vdiId()); // still unsealed: its next open writes it
            throw e;
        }
        log.info("rolled VDI {} back to {}@{} (new id {})", name, name, tag, Integer.toHexString(r.current().vdiId()));
        inodeObjects.writeHeader(r.replaced(), true);
        reclaimer.reclaim(r.replaced());
        return r.current();
    }

    private static int[] entries(InodeTable table, long count) {
        int[] out = new int[(int) Math.min(Inode.MAX_DATA_OBJECTS, count)];
        for (int i = 0; i < out.length; i++) {
            out[i] = table.get(i);
        }
        return out;
    }
}
