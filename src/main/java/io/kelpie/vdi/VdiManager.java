package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The VDIs of the cluster as this node knows them: the {@link Catalogue} (pure state, applied in
 * cluster order), the inode objects (read and written through the gateway), and the open
 * {@link Vdi} handles shared by all local clients ({@link VdiHandles}). Metadata operations block; keep them off event
 * loops. No lock is held across I/O or a cluster round trip except a VDI's own gate, which
 * serializes only that VDI's first open and last close.
 */
public final class VdiManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VdiManager.class);

    private final InodeObjects inodeObjects;
    private final Catalogue catalogue;
    private final Reclaimer reclaimer;
    private final Lineages lineages;
    private final NewInodes newInodes;
    private final VdiHandles handles;
    private volatile CrashPoint crashPoint = CrashPoint.fromSystemProperty();
    private volatile Ordering ordering = op -> apply(op);
    private volatile String self = "local@local";
    /** How long an open waits for another node to let go of a VDI its client has just left. */
    private volatile long releaseGraceMillis = 3_000;

    public VdiManager(Gateway gateway, ByteBufAllocator alloc, int defaultCopies, int blockSizeShift) {
        this.inodeObjects = new InodeObjects(gateway);
        this.catalogue = new Catalogue(defaultCopies, blockSizeShift, new Catalogue.Listener() {
            @Override
            public void changed(Inode in) {
                handles.changed(in);
            }

            @Override
            public void moved(int fromVid, Inode to) {
                handles.moved(fromVid, to);
            }
        });
        this.newInodes = new NewInodes(this, catalogue, inodeObjects);
        this.reclaimer = new Reclaimer(gateway, inodeObjects, Reclaimer.host(catalogue, op -> ordering.order(op), () -> self,
                newInodes::entriesAsRead));
        this.lineages = new Lineages(this, catalogue, inodeObjects, reclaimer, newInodes);
        this.handles = new VdiHandles(this, catalogue, newInodes, inodeObjects, gateway, alloc);
    }

    /** Orders a catalogue change through the cluster (or applies it, alone). */
    Object order(CatalogueOp op) {
        return ordering.order(op);
    }

    String self() {
        return self;
    }

    /** The header of VDI {@code vid} (deleted placeholders too), or null; lock-free. */
    Inode byId(int vid) {
        return catalogue.byId(vid);
    }

    /** This node's handle of VDI {@code vid}, or null. */
    Vdi openHandle(int vid) {
        return handles.get(vid);
    }

    CrashPoint crashPoint() {
        return crashPoint;
    }

    /** TEST ONLY: where this node stops between ordering a change and the I/O after it (see {@link CrashPoint}). */
    public void crashPointForTests(CrashPoint p) {
        this.crashPoint = p;
    }

    /** Whether VDI {@code vid} reads as its parent's table until someone seals it (see {@link NewInodes}). */
    public boolean unsealed(int vid) {
        return catalogue.isUnsealed(vid);
    }

    /** Routes catalogue changes through {@code o} (the cluster's total order) from now on. */
    public void ordering(Ordering o) {
        this.ordering = o;
    }

    /** How long {@link #open} waits out another node's claim before refusing; 0 refuses at once. */
    public void releaseGrace(long millis) {
        this.releaseGraceMillis = millis;
    }

    /** This node as a lock holder: {@code ID@HOST:PORT}, as {@code NodeInfo.toString()} spells it. */
    public void self(String holder) {
        this.self = holder;
    }

    public int defaultCopies() {
        return catalogue.defaultCopies();
    }

    public long maxVdiSize() {
        return catalogue.maxVdiSize();
    }

    /** Loads the inodes found in the store; finishes deletes a crash interrupted. */
    public void recover(List<Long> inodeOids) {
        List<Inode> dead = new ArrayList<>();
        for (long oid : inodeOids) {
            Inode in = inodeObjects.readHeader(oid, 1);
            catalogue.register(in);
            if (in.deleted()) {
                dead.add(in);
            }
        }
        for (Inode in : dead) {
            log.info("finishing interrupted delete of VDI {} ({})", in.displayName(), Integer.toHexString(in.vdiId()));
            reclaimer.reclaim(in);
        }
    }

    public List<Inode> list() {
        return catalogue.list();
    }

    /** Copies of the VDI with this id (the owner of an object), or 0 when no such VDI is known. */
    public int copiesOf(int vid) {
        return catalogue.copiesOf(vid);
    }

    /** The working VDI called {@code name}, or with {@code name@tag} its snapshot, as this node knows it now. */
    public Inode lookup(String exportName) {
        return catalogue.lookup(exportName);
    }

    /**
     * {@link #lookup}, but a name this node does not know is looked up once more after a barrier
     * through the cluster's order: a VDI that another node has just created is then known here too.
     * Not for use while applying an op (the barrier needs the cluster's thread).
     */
    public Inode find(String exportName) {
        try {
            return lookup(exportName);
        } catch (KelpieException e) {
            if (e.status() != Status.NO_VDI) {
                throw e;
            }
            ordering.order(CatalogueOp.barrier());
            return lookup(exportName);
        }
    }

    /** Creates a VDI; see {@link NewInodes#create}. */
    public Inode create(String name, long size, int copies) {
        return newInodes.create(name, size, copies);
    }

    public Inode resize(String name, long newSize) {
        Inode grown = (Inode) ordering.order(CatalogueOp.resize(name, newSize));
        inodeObjects.writeHeader(grown, true);
        log.info("resized VDI {} to {} bytes", name, newSize);
        return grown;
    }

    /**
     * Deletes a VDI or one snapshot: it leaves the catalogue at once (in cluster order) as a deleted
     * placeholder, the objects no other VDI reads are removed, and the placeholder goes (its id
     * released for reuse) once no live VDI reads any of its objects, so a new VDI can never meet
     * the old one's objects. See {@link Reclaimer}.
     */
    public void delete(String exportName) {
        Inode found = lookup(exportName);
        Vdi handle = handles.get(found.vdiId());
        if (handle != null) {
            throw new KelpieException(Status.INVALID, "VDI '" + exportName + "' is in use by " + handle.refs.get()
                    + " client(s); disconnect them first");
        }
        Inode dead = (Inode) ordering.order(CatalogueOp.delete(exportName));
        crashPoint.afterOrdered(CatalogueOp.Kind.DELETE, dead);
        inodeObjects.writeHeader(dead, true); // a store scan at startup finishes the delete
        reclaimer.reclaim(dead);
    }

    /**
     * Finishes the reclaims of deleted VDIs that a crash or failure interrupted (see
     * {@link Reclaimer#resumeAll}); blocking. Returns how many placeholders went.
     */
    public int resumeReclaims() {
        return reclaimer.resumeAll();
    }

    /** The deleted VDIs whose reclaim has not finished (interrupted, or running now). */
    public List<Integer> pendingReclaims() {
        return catalogue.reclaiming();
    }

    /**
     * Takes a snapshot of a working VDI; writes acknowledged before this call are in it, the ones
     * after are not. See {@link Lineages#snapshot}.
     */
    public Inode snapshot(String name, String tag) {
        return lineages.snapshot(name, tag).snapshot();
    }

    /** A new VDI {@code name} whose parent is the snapshot {@code source} (NAME@TAG), sharing its objects. */
    public Inode cloneOf(String source, String name, int copies) {
        return lineages.cloneOf(source, name, copies);
    }

    /** The working VDI {@code name} goes back to snapshot {@code tag}'s content; refused while a client has it open. */
    public Inode rollback(String name, String tag) {
        return lineages.rollback(name, tag);
    }

    /** Sets (or with {@code exclusive} creates, with {@code delete} removes) an attribute, in the cluster's order. */
    public void setAttr(String exportName, String key, byte[] value, boolean exclusive, boolean delete) {
        VdiAttributes.validate(key, value);
        ordering.order(CatalogueOp.attr(exportName, key, value, exclusive, delete));
    }

    /** An attribute's value; one not known here is looked up again after a barrier (it may have just been set elsewhere). */
    public byte[] getAttr(String exportName, String key) {
        return VdiAttributes.lookup(catalogue, ordering, exportName, key);
    }

    /** An attribute as this node has it, without getAttr's barrier (NBD handshakes ask); null when unset. */
    public byte[] localAttr(String exportName, String key) {
        return VdiAttributes.local(catalogue, exportName, key);
    }

    /** Every inode, deleted placeholders included (for the snapshot tree). */
    public List<Inode> all() {
        return catalogue.all();
    }


    /** Applies a catalogue change to this node's catalogue (in cluster order). */
    public Object apply(CatalogueOp op) {
        return catalogue.apply(op);
    }

    /**
     * Drops the locks of nodes that are no longer members (they left or crashed: their handles
     * are gone). Called in cluster order with each new epoch's member list.
     */
    public void retainLocks(Set<String> members) {
        catalogue.retainLocks(members);
    }

    /** Who has VDI {@code vid} open (ID@HOST:PORT), or null. */
    public String lockHolder(int vid) {
        return catalogue.lockHolder(vid);
    }

    /** The catalogue with the current VDI locks, for a node joining the cluster (not for disk). */
    public byte[] snapshotWithLocks() {
        return catalogue.snapshotWithLocks();
    }

    /** The catalogue as bytes: every VDI's header and the ids still reserved by unfinished deletes. */
    public byte[] snapshot() {
        return catalogue.snapshot();
    }

    /** Replaces the catalogue with a {@link #snapshot()} (a node joining, or one restarting). */
    public void restore(byte[] snapshot) {
        catalogue.restore(snapshot, self);
    }

    /**
     * Opens (or shares) the VDI for I/O; pair with {@link Vdi#close()}. The first local open
     * claims the VDI for this node in cluster order; fails with {@link Status#VDI_LOCKED} while
     * another node has it open, once it has waited {@link #releaseGrace} for that node to let go.
     */
    public Vdi open(String exportName) {
        return handles.open(exportName, releaseGraceMillis);
    }

    Object gate(int vid) {
        return handles.gate(vid);
    }

    void unlock(int vid) {
        handles.unlock(vid);
    }

    /** Which data objects of a VDI are allocated, and the VDI that owns each. */
    public Map<Long, Integer> allocatedObjects(String exportName) {
        return allocatedObjects(lookup(exportName));
    }

    /** {@link #allocatedObjects(String)} of an inode this node knows. */
    public Map<Long, Integer> allocatedObjects(Inode in) {
        Vdi vdi = handles.get(in.vdiId());
        return newInodes.allocated(in, vdi != null ? vdi.table() : null);
    }

    void release(Vdi vdi) {
        handles.release(vdi);
    }

    @Override
    public void close() {
        handles.closeAll();
    }

    public static int hashVid(String name) {
        return CatalogueRules.hashVid(name);
    }
}
