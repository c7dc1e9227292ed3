package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

/**
 * The second step of every catalogue change that makes a new VDI (create, snapshot, clone,
 * rollback): the catalogue registers it in cluster order, unsealed and claimed by the node that
 * asked; that node then writes its inode object and orders SEAL. Should that node die in between,
 * the VDI still reads as its parent's table (a frozen snapshot's, which is exactly what it was
 * given) or, with no parent, as an empty one, and whoever claims it next writes the inode object
 * so and seals it: only the holder of the VDI's claim does, so never while another node may be
 * writing it. Blocking: on admin threads only.
 */
final class NewInodes {
    private static final Logger log = LoggerFactory.getLogger(NewInodes.class);

    private final VdiManager manager;
    private final Catalogue catalogue;
    private final InodeObjects inodes;

    NewInodes(VdiManager manager, Catalogue catalogue, InodeObjects inodes) {
        this.manager = manager;
        this.catalogue = catalogue;
        this.inodes = inodes;
    }

    /**
     * Creates a plain VDI: the name is claimed and the id chosen in the cluster's order (so that of
     * two racing creates of one name exactly one wins), then this node writes the inode and seals it.
     */
    Inode create(String name, long size, int copies) {
        CatalogueRules.validateName(name);
        CatalogueRules.checkCopies(copies);
        catalogue.validateSize(size);
        Inode in = (Inode) manager.order(CatalogueOp.create(name, size, copies, System.currentTimeMillis(), manager.self()));
        manager.crashPoint().afterOrdered(CatalogueOp.Kind.CREATE, in);
        try {
            writeAndSeal(in, null);
        } catch (KelpieException e) {
            // The name was claimed but the inode could not be stored (too few zones, say): give it back.
            manager.unlock(in.vdiId());
            try {
                manager.order(CatalogueOp.delete(name));
                manager.order(CatalogueOp.release(in.vdiId()));
            } catch (KelpieException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
        log.info("created VDI {} ({}, id {}, {} copies)", name, size, Integer.toHexString(in.vdiId()), in.copies());
        return in;
    }

    /**
     * The asking node's second step for a new VDI that it holds and has no handle of: writes the
     * inode object with {@code entries} (null: an empty table) and seals it, giving the VDI up. A
     * client of this node that opened it meanwhile has done both already (and holds it now).
     */
    void writeAndSeal(Inode created, int[] entries) {
        int vid = created.vdiId();
        synchronized (manager.gate(vid)) {
            Inode in = catalogue.byId(vid);
            if (manager.openHandle(vid) != null || in == null || !catalogue.isUnsealed(vid)) {
                return;
            }
            write(in, entries);
            manager.order(CatalogueOp.seal(vid, manager.self(), true));
        }
    }

    /**
     * On open, with the VDI's claim held and its gate locked: an unsealed VDI's writer died before
     * sealing it, so its inode object may be missing (or, written but unsealed, still untouched:
     * writes start only after SEAL). Writes it from the table it reads as, and seals it.
     */
    void repairIfUnsealed(Inode in) {
        if (!catalogue.isUnsealed(in.vdiId())) {
            return;
        }
        int[] entries = in.parentVdiId() == 0 ? null : entriesAsRead(in);
        Inode parent = in.parentVdiId() == 0 ? null : catalogue.byId(in.parentVdiId());
        if (parent != null && parent.isSnapshot() && !parent.deleted()) {
            inodes.writeHeader(parent, true); // a snapshot's own header update may have died with the writer too
        }
        write(in, entries);
        manager.order(CatalogueOp.seal(in.vdiId(), manager.self(), false));
        log.warn("VDI {} (id {}) was left unsealed by a node that stopped: its inode object is rewritten from {}",
                in.displayName(), Integer.toHexString(in.vdiId()),
                parent == null ? "an empty table" : "the table of " + parent.displayName());
    }

    private void write(Inode in, int[] entries) {
        if (entries == null) {
            inodes.createHeader(in);
        } else {
            inodes.createWithTable(in, entries);
        }
    }

    /**
     * The first {@code objectCount} table entries the VDI reads by: its inode object's, or for an
     * unsealed VDI its parent's (none: all 0). A missing inode object of a sealed VDI is an error,
     * never read as all 0: a reclaim would free what that VDI reads.
     */
    int[] entriesAsRead(Inode in) {
        int n = (int) Math.min(Inode.MAX_DATA_OBJECTS, in.objectCount());
        if (!catalogue.isUnsealed(in.vdiId())) {
            return inodes.loadEntries(in, false);
        }
        if (in.parentVdiId() == 0) {
            return new int[n];
        }
        Inode parent = catalogue.byId(in.parentVdiId());
        if (parent == null) {
            throw new KelpieException(Status.IO_ERROR, "unsealed VDI " + in.displayName() + " has lost its parent "
                    + Integer.toHexString(in.parentVdiId()));
        }
        return Arrays.copyOf(entriesAsRead(parent), n);
    }

    /** {@link #entriesAsRead} as a table; the caller closes it. */
    InodeTable tableAsRead(Inode in) {
        if (!catalogue.isUnsealed(in.vdiId())) {
            return inodes.loadTable(in);
        }
        int[] entries = entriesAsRead(in);
        InodeTable table = new InodeTable(Inode.MAX_DATA_OBJECTS);
        for (int i = 0; i < entries.length; i++) {
            table.set(i, entries[i]);
        }
        return table;
    }

    /** Which data objects of a VDI are allocated, and the VDI that owns each; {@code open}: its open handle's table. */
    java.util.Map<Long, Integer> allocated(Inode in, InodeTable open) {
        InodeTable table = open != null ? open : tableAsRead(in);
        try {
            java.util.Map<Long, Integer> out = new java.util.TreeMap<>();
            for (long i = 0; i < in.objectCount(); i++) {
                int owner = table.get(i);
                if (owner != 0) {
                    out.put(i, owner);
                }
            }
            return out;
        } finally {
            if (open == null) {
                table.close();
            }
        }
    }
}
