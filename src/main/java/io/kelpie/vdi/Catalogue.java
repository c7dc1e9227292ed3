package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Sizes;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The VDI catalogue as a pure, deterministic state: inode headers by id, the in-use id bitmap and
 * which node has each VDI open. Every node applies the same {@link CatalogueOp}s in the cluster's
 * order and so holds the same catalogue. Its lock is short and never held across I/O, so the
 * ordered cluster thread that applies ops never waits behind storage. Its state is read and
 * written by {@link Claims}, {@link Lineage} and {@link CatalogueCodec} under that lock.
 */
final class Catalogue {
    private static final Logger log = LoggerFactory.getLogger(Catalogue.class);

    private final int defaultCopies;
    private final int blockSizeShift;
    /** Concurrent so that {@link #copiesOf} (on every object I/O) needs no lock. */
    final Map<Integer, Inode> inodes = new ConcurrentHashMap<>();
    final BitSet inUse = new BitSet(ObjectIds.MAX_VDI_ID + 1);
    /**
     * Which node has each VDI open (ID@HOST:PORT): a node caches an open VDI's allocation table, so
     * a second node writing the same VDI would miss the first one's allocations and re-create
     * (wipe) its objects. Not persisted: after a restart nothing is open.
     */
    final Map<Integer, String> locks = new HashMap<>();
    /** Which nodes have each snapshot open (read-only, so any number): a delete of it waits for them. Not persisted. */
    final Map<Integer, Set<String>> readers = new HashMap<>();
    final VdiAttributes attrs = new VdiAttributes();
    final VidSet unsealed = new VidSet();
    final VidSet reclaiming = new VidSet();
    /** Told of every header that changes, under the lock: it must only swap references. */
    private final Listener changed;

    /** What an open handle needs to hear, under the catalogue's lock (so: only swap references). */
    interface Listener {
        void changed(Inode in);

        /** A snapshot: the working VDI that had id {@code fromVid} goes on as {@code to}. */
        void moved(int fromVid, Inode to);
    }

    Catalogue(int defaultCopies, int blockSizeShift, Listener changed) {
        this.defaultCopies = defaultCopies;
        this.blockSizeShift = blockSizeShift;
        this.changed = changed;
    }

    int defaultCopies() {
        return defaultCopies;
    }

    long maxVdiSize() {
        return (long) Inode.MAX_DATA_OBJECTS << blockSizeShift;
    }

    /** The live VDIs and snapshots (not the placeholders of deleted ones). */
    synchronized List<Inode> list() {
        return all().stream().filter(in -> !in.deleted()).toList();
    }

    /** Every inode, deleted placeholders included (they keep objects that clones still read). */
    synchronized List<Inode> all() {
        List<Inode> all = new ArrayList<>(inodes.values());
        all.sort(Comparator.comparing(Inode::name).thenComparingLong(Inode::snapCtime));
        return all;
    }

    int copiesOf(int vid) {
        Inode in = inodes.get(vid);
        return in == null ? 0 : in.copies();
    }

    Inode byId(int vid) {
        return inodes.get(vid);
    }

    /** The working VDI called {@code name}, or with {@code name@tag} its snapshot. */
    synchronized Inode lookup(String exportName) {
        int at = exportName.indexOf('@');
        String name = at < 0 ? exportName : exportName.substring(0, at);
        String tag = at < 0 ? null : exportName.substring(at + 1);
        for (Inode in : inodes.values()) {
            if (!in.name().equals(name) || in.deleted()) {
                continue;
            }
            if (tag == null ? !in.isSnapshot() : in.isSnapshot() && (in.tag().equals(tag) || String.valueOf(in.snapId()).equals(tag))) {
                return in;
            }
        }
        throw new KelpieException(Status.NO_VDI, "no VDI named '" + exportName + "'");
    }

    /**
     * Applies a catalogue change: a decision on the catalogue alone (no I/O, no clock), so every
     * node that applies the same sequence agrees.
     */
    synchronized Object apply(CatalogueOp op) {
        switch (op.kind()) {
            case CREATE -> {
                CatalogueRules.validateName(op.name());
                CatalogueRules.checkCopies(op.copies());
                validateSize(op.size());
                checkNameFree(op.name());
                int vid = freeVid(op.name());
                int nCopies = op.copies() > 0 ? op.copies() : defaultCopies;
                Inode in = new Inode(op.name(), "", op.time(), 0, op.size(), nCopies, blockSizeShift, 1, vid, 0, 1, false);
                register(in);
                unsealed.add(vid); // until the asking node has written the inode (an empty table)
                if (!op.holder().isEmpty()) {
                    locks.put(vid, op.holder());
                }
                return in;
            }
            case RESIZE -> {
                Inode in = lookup(op.name());
                if (in.isSnapshot()) {
                    throw new KelpieException(Status.READ_ONLY, "cannot resize snapshot '" + in.displayName() + "'");
                }
                if (op.size() < in.size()) {
                    throw new KelpieException(Status.INVALID, "cannot shrink VDI '" + op.name() + "' from " + in.size()
                            + " to " + op.size() + " bytes: shrinking would destroy data, only growing is supported");
                }
                validateSize(op.size());
                Inode grown = in.withSize(op.size());
                register(grown);
                return grown;
            }
            case DELETE -> {
                Inode in = lookup(op.name());
                String holder = locks.get(in.vdiId());
                if (holder != null) {
                    throw Claims.lockedError(in, holder);
                }
                Claims.checkNoReaders(this, in);
                // A placeholder until its objects are gone: clones and later snapshots may still read
                // some of them, and recovery needs its copies for the rest (see VdiManager#delete).
                Inode dead = in.asDeleted();
                register(dead);
                attrs.drop(in.vdiId());
                unsealed.remove(in.vdiId()); // a placeholder never reads as its parent: it owns what it wrote
                markReclaiming(dead);
                return dead;
            }
            case SNAPSHOT -> {
                return Lineage.snapshot(this, op);
            }
            case CLONE -> {
                return Lineage.cloneOf(this, op);
            }
            case ROLLBACK -> {
                return Lineage.rollback(this, op);
            }
            case ATTR -> {
                return attrs.apply(lookup(op.name()), op);
            }
            case LOCK -> {
                return Claims.lock(this, op);
            }
            case UNLOCK -> {
                return Claims.unlock(this, op);
            }
            case SEAL -> {
                return Claims.seal(this, op);
            }
            case RECLAIM -> {
                return Claims.reclaim(this, op);
            }
            case RELEASE -> {
                return Claims.release(this, op);
            }
            case BARRIER -> {
                return null;
            }
            default -> throw new KelpieException(Status.INVALID, "unknown catalogue operation " + op.kind());
        }
    }

    /** Drops the locks of nodes that are no longer members: they left or crashed, their handles are gone. */
    synchronized void retainLocks(Set<String> members) {
        locks.entrySet().removeIf(e -> {
            if (members.contains(e.getValue())) {
                return false;
            }
            log.info("VDI {} is free: node {} has left", Integer.toHexString(e.getKey()), e.getValue());
            return true;
        });
        notifyAll();
        readers.values().forEach(r -> r.retainAll(members));
        readers.values().removeIf(Set::isEmpty);
    }

    /** Attribute {@code key} of the VDI or snapshot {@code exportName}. */
    synchronized byte[] attr(String exportName, String key) {
        return attrs.get(lookup(exportName), key);
    }

    /** The attributes, for snapshot and rollback; in apply only. */
    VdiAttributes attributes() {
        return attrs;
    }

    /** Whether {@code vid}'s inode object may not be written yet (see {@link NewInodes}). */
    synchronized boolean isUnsealed(int vid) {
        return unsealed.contains(vid);
    }

    /**
     * {@code dead} and its deleted ancestors up to the first live one have objects to free now
     * (what a delete can change, see {@link Reclaimer}) until a reclaim of each says it is done.
     */
    void markReclaiming(Inode dead) {
        for (Inode p = dead; p != null && p.deleted(); p = p.parentVdiId() == 0 ? null : inodes.get(p.parentVdiId())) {
            reclaiming.add(p.vdiId());
        }
    }

    /** The deleted VDIs whose reclaim has not finished. */
    synchronized List<Integer> reclaiming() {
        return reclaiming.toList();
    }

    /** The deleted VDIs whose reclaim has not finished; in apply only. */
    VidSet reclaimingSet() {
        return reclaiming;
    }

    /** The unsealed VDIs; in apply only. */
    VidSet unsealed() {
        return unsealed;
    }

    /**
     * Waits up to {@code millis} until no node but {@code self} holds {@code vid}; false if one still
     * does. A client that has just disconnected from another node leaves that node's claim in place
     * until its unlock is ordered, a moment later.
     */
    synchronized boolean awaitFree(int vid, String self, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        String holder;
        while ((holder = locks.get(vid)) != null && !holder.equals(self)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            try {
                wait(left / 1_000_000, (int) (left % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    synchronized String lockHolder(int vid) {
        return locks.get(vid);
    }

    /** Gives {@code vid} to {@code holder} (null: nobody); in apply only. */
    void setLock(int vid, String holder) {
        if (holder == null) {
            locks.remove(vid);
            notifyAll(); // an open waiting out another node's release (awaitFree)
        } else {
            locks.put(vid, holder);
        }
    }

    /** The working VDI is now {@code to} (a snapshot took its old id); in apply only. */
    void moved(int fromVid, Inode to) {
        changed.moved(fromVid, to);
    }

    void checkNameFree(String name) {
        for (Inode in : inodes.values()) {
            if (in.name().equals(name) && !in.isSnapshot() && !in.deleted()) {
                throw new KelpieException(Status.VDI_EXISTS, "VDI '" + name + "' already exists");
            }
        }
    }

    /** Live snapshots of {@code name}; in apply only. */
    List<Inode> snapshotsOf(String name) {
        return inodes.values().stream().filter(in -> in.name().equals(name) && in.isSnapshot() && !in.deleted()).toList();
    }

    int blockSizeShift() {
        return blockSizeShift;
    }

    /** Adds or replaces a header (ops, and inodes found in the store at startup). */
    synchronized void register(Inode in) {
        inodes.put(in.vdiId(), in);
        inUse.set(in.vdiId());
        changed.changed(in);
    }

    /** Frees the id of a VDI whose objects are gone (RELEASE). */
    synchronized void freeId(int vid) {
        Inode in = inodes.get(vid);
        if (in == null || in.deleted()) {
            inodes.remove(vid);
            inUse.clear(vid);
        }
    }

    /** Every header and the ids still reserved by unfinished deletes, as bytes (for disk). */
    synchronized byte[] snapshot() {
        return CatalogueCodec.encode(this, false);
    }

    /** {@link #snapshot()} with the current VDI locks, for a node joining the cluster (not for disk). */
    synchronized byte[] snapshotWithLocks() {
        return CatalogueCodec.encode(this, true);
    }

    /**
     * Replaces the catalogue with a snapshot (a node joining, or one restarting). Locks naming
     * {@code self} (ID@...) are left from before this node restarted: it has nothing open yet.
     */
    synchronized void restore(byte[] snapshot, String self) {
        CatalogueCodec.restore(this, snapshot, self);
        notifyAll(); // its claims replace this node's
    }

    /** Sheepdog's rule: FNV-1a of the name, 24 bits, then the first free id at or after it. */
    int freeVid(String name) {
        int start = CatalogueRules.hashVid(name);
        int vid = inUse.nextClearBit(start);
        if (vid > ObjectIds.MAX_VDI_ID) {
            vid = inUse.nextClearBit(1);
        }
        if (vid > ObjectIds.MAX_VDI_ID || vid == 0) {
            throw new KelpieException(Status.VDI_FULL, "no free VDI id left");
        }
        return vid;
    }

    void validateSize(long size) {
        if (size <= 0) {
            throw new KelpieException(Status.INVALID, "VDI size must be greater than 0");
        }
        if (size > maxVdiSize()) {
            throw new KelpieException(Status.INVALID, "VDI size " + size + " exceeds the maximum of " + maxVdiSize()
                    + " bytes (" + Sizes.format(maxVdiSize()) + ")");
        }
    }
}
