package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.nio.charset.StandardCharsets;

/**
 * The catalogue decisions that make new inodes from old ones (snapshot, clone, rollback), after
 * Sheepdog's: the new inode gets a new id and names its source as parent; its table is a copy of
 * the source's, so every object stays shared until written. Called by {@link Catalogue#apply}
 * under its lock, in cluster order: pure decisions on the catalogue, no I/O, no clock. The node
 * that asked then writes the new inode object, holding the new VDI's lock so that nobody opens
 * it before its table is there, and seals it; until then the new VDI is {@link NewInodes} (read as
 * its parent's table, repaired by whoever claims it next should the asking node die).
 */
final class Lineage {
    private Lineage() {
    }

    /** The snapshot and the working VDI that goes on after it. */
    record Snapshot(Inode snapshot, Inode current) {
    }

    /** The working VDI that a rollback deleted, and the one that replaces it. */
    record Rollback(Inode replaced, Inode current) {
    }

    static Snapshot snapshot(Catalogue c, CatalogueOp op) {
        Inode cur = c.lookup(op.name());
        if (cur.isSnapshot()) {
            throw new KelpieException(Status.INVALID, "'" + op.name() + "' is a snapshot; snapshot its VDI instead");
        }
        validateTag(op.target());
        if (!op.target().isEmpty()) {
            for (Inode s : c.snapshotsOf(cur.name())) {
                if (s.tag().equals(op.target())) {
                    throw new KelpieException(Status.VDI_EXISTS, "snapshot '" + cur.name() + "@" + op.target()
                            + "' already exists (id " + s.snapId() + ")");
                }
            }
        }
        // The node that orders the snapshot holds the VDI and has paused its writes: anything else
        // would let a write land in the snapshot after the snapshot point.
        String holder = c.lockHolder(cur.vdiId());
        if (holder == null || !holder.equals(op.holder())) {
            throw holder == null ? new KelpieException(Status.INVALID, "VDI '" + cur.name() + "' was not held for the snapshot")
                    : Claims.lockedError(cur, holder);
        }
        int vid = c.freeVid(cur.name());
        Inode snap = cur.asSnapshot(op.target(), op.time());
        Inode next = new Inode(cur.name(), "", op.time(), 0, cur.size(), cur.copies(), cur.blockSizeShift(),
                cur.snapId() + 1, vid, cur.vdiId(), 1, false);
        // The handle moves first, so that registering the snapshot does not make it read-only.
        c.moved(cur.vdiId(), next);
        c.setLock(cur.vdiId(), null);
        c.setLock(vid, holder);
        c.register(snap);
        c.register(next);
        c.unsealed().add(vid);
        c.attributes().copy(snap.vdiId(), vid);
        return new Snapshot(snap, next);
    }

    static Inode cloneOf(Catalogue c, CatalogueOp op) {
        Inode src = snapshotNamed(c, op.target());
        CatalogueRules.validateName(op.name());
        CatalogueRules.checkCopies(op.copies());
        c.checkNameFree(op.name());
        int vid = c.freeVid(op.name());
        int copies = op.copies() > 0 ? op.copies() : src.copies();
        Inode clone = new Inode(op.name(), "", op.time(), 0, src.size(), copies, src.blockSizeShift(), 1, vid,
                src.vdiId(), 1, false);
        c.setLock(vid, op.holder());
        c.register(clone);
        c.unsealed().add(vid);
        return clone;
    }

    static Rollback rollback(Catalogue c, CatalogueOp op) {
        Inode cur = c.lookup(op.name());
        if (cur.isSnapshot()) {
            throw new KelpieException(Status.INVALID, "'" + op.name() + "' is a snapshot; roll back its VDI instead");
        }
        Inode snap = snapshotNamed(c, op.target());
        if (!snap.name().equals(cur.name())) {
            throw new KelpieException(Status.INVALID, "'" + op.target() + "' is not a snapshot of VDI '" + cur.name() + "'");
        }
        String holder = c.lockHolder(cur.vdiId());
        if (holder != null) {
            throw Claims.lockedError(cur, holder);
        }
        int vid = c.freeVid(cur.name());
        // The snapshot numbering goes on: the next snapshot of the VDI still gets a new id.
        Inode next = new Inode(cur.name(), "", op.time(), 0, snap.size(), cur.copies(), snap.blockSizeShift(),
                cur.snapId(), vid, snap.vdiId(), 1, false);
        Inode dead = cur.asDeleted();
        c.register(dead);
        c.markReclaiming(dead);
        c.setLock(vid, op.holder());
        c.register(next);
        c.unsealed().add(vid);
        c.attributes().move(cur.vdiId(), vid);
        return new Rollback(dead, next);
    }

    private static Inode snapshotNamed(Catalogue c, String exportName) {
        if (exportName.indexOf('@') < 0) {
            throw new KelpieException(Status.INVALID, "'" + exportName + "' is not a snapshot: name one as NAME@TAG or NAME@ID");
        }
        try {
            return c.lookup(exportName);
        } catch (KelpieException e) {
            throw new KelpieException(Status.NO_VDI, "no snapshot '" + exportName + "'");
        }
    }

    /**
     * A tag names one snapshot in exports (NAME@TAG), so it may not contain what separates names, nor
     * be all digits, which would read as a snapshot id.
     */
    static void validateTag(String tag) {
        if (tag.isEmpty()) {
            return;
        }
        if (tag.getBytes(StandardCharsets.UTF_8).length > Inode.MAX_TAG_BYTES) {
            throw new KelpieException(Status.INVALID, "snapshot tag is longer than " + Inode.MAX_TAG_BYTES + " bytes");
        }
        if (tag.chars().allMatch(Character::isDigit)) {
            throw new KelpieException(Status.INVALID, "snapshot tag '" + tag + "' is all digits, which reads as a snapshot id");
        }
        for (int i = 0; i < tag.length(); i++) {
            char ch = tag.charAt(i);
            if (ch == '@' || ch == '/' || Character.isISOControl(ch)) {
                throw new KelpieException(Status.INVALID, "snapshot tag must not contain '@', '/' or control characters");
            }
        }
    }
}
