package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

/**
 * The catalogue decisions about who may do what to one VDI: claiming it for I/O (LOCK, UNLOCK),
 * sealing a new VDI once its inode object is written (SEAL), claiming a deleted placeholder to
 * reclaim it (RECLAIM) and letting it go (RELEASE). Called by {@link Catalogue#apply} under its
 * lock, in cluster order: pure decisions, no I/O.
 */
final class Claims {
    private Claims() {
    }

    static KelpieException lockedError(Inode in, String holder) {
        int at = holder.indexOf('@');
        return new KelpieException(Status.VDI_LOCKED, "VDI '" + in.displayName() + "' is in use on node "
                + holder.substring(at + 1) + "; use that node or disconnect its clients");
    }

    /** A snapshot open on some node is not deleted under it: that node's clients read objects the delete would free. */
    static void checkNoReaders(Catalogue c, Inode in) {
        java.util.Set<String> r = c.readers.get(in.vdiId());
        if (r != null && !r.isEmpty()) {
            String nodes = String.join(", ", r.stream().map(h -> h.substring(h.indexOf('@') + 1)).toList());
            throw new KelpieException(Status.VDI_LOCKED, "snapshot '" + in.displayName() + "' is being read on node(s) "
                    + nodes + "; disconnect their clients first");
        }
    }

    static Object lock(Catalogue c, CatalogueOp op) {
        Inode in = c.byId(op.vid());
        if (in == null || in.deleted()) {
            throw new KelpieException(Status.NO_VDI, "no VDI named '" + op.name() + "'");
        }
        if (in.isSnapshot()) {
            c.readers.computeIfAbsent(op.vid(), k -> new java.util.TreeSet<>()).add(op.holder());
            return null;
        }
        String holder = c.lockHolder(op.vid());
        if (holder != null && !holder.equals(op.holder())) {
            throw Claims.lockedError(in, holder);
        }
        c.setLock(op.vid(), op.holder());
        return null;
    }

    static Object unlock(Catalogue c, CatalogueOp op) {
        java.util.Set<String> r = c.readers.get(op.vid());
        if (r != null && r.remove(op.holder()) && r.isEmpty()) {
            c.readers.remove(op.vid());
        }
        if (op.holder().equals(c.lockHolder(op.vid()))) {
            c.setLock(op.vid(), null);
        }
        return null;
    }

    /**
     * Returns whether the VDI was unsealed. Only its holder may seal it: a node whose claim was
     * dropped (it left the cluster) must not seal a VDI that another node may be repairing.
     */
    static Object seal(Catalogue c, CatalogueOp op) {
        int vid = op.vid();
        if (!c.unsealed().contains(vid)) {
            return false;
        }
        String holder = c.lockHolder(vid);
        if (!op.holder().equals(holder)) {
            Inode in = c.byId(vid);
            throw holder == null || in == null
                    ? new KelpieException(Status.VDI_LOCKED, "VDI " + Integer.toHexString(vid) + " is no longer held by " + op.holder())
                    : Claims.lockedError(in, holder);
        }
        c.unsealed().remove(vid);
        if (op.size() != 0) {
            c.setLock(vid, null);
        }
        return true;
    }

    /**
     * Claims a deleted placeholder for reclaiming; NO_VDI when it is gone (released) or not deleted.
     * With {@code size} 1 its holder says the reclaim is done (what is left, live VDIs read): the
     * claim ends and the placeholder is no longer pending.
     */
    static Object reclaim(Catalogue c, CatalogueOp op) {
        if (op.size() != 0) {
            if (op.holder().equals(c.lockHolder(op.vid()))) {
                c.setLock(op.vid(), null);
                c.reclaimingSet().remove(op.vid());
            }
            return null;
        }
        Inode in = c.byId(op.vid());
        if (in == null || !in.deleted()) {
            throw new KelpieException(Status.NO_VDI, "no deleted VDI " + Integer.toHexString(op.vid()));
        }
        String holder = c.lockHolder(op.vid());
        if (holder != null && !holder.equals(op.holder())) {
            throw new KelpieException(Status.VDI_LOCKED, "deleted VDI " + in.displayName() + " is being reclaimed by "
                    + holder.substring(holder.indexOf('@') + 1));
        }
        c.setLock(op.vid(), op.holder());
        return null;
    }

    static Object release(Catalogue c, CatalogueOp op) {
        Inode in = c.byId(op.vid());
        if (in == null || in.deleted()) {
            c.freeId(op.vid());
            c.setLock(op.vid(), null);
            c.readers.remove(op.vid());
            c.unsealed().remove(op.vid());
            c.reclaimingSet().remove(op.vid());
        }
        return null;
    }
}
