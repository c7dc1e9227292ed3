package io.kelpie.vdi;

import io.kelpie.common.Fnv1a;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The VDIs of the cluster as this node knows them: the catalogue of inode headers (by id and by
 * name), the in-use id bitmap, and the open {@link Vdi} handles shared by all local clients.
 * Metadata operations are serialized on this object and block; keep them off event loops.
 */
public final class VdiManager implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VdiManager.class);

    private final Gateway gateway;
    private final InodeObjects inodeObjects;
    private final ByteBufAllocator alloc;
    private final int defaultCopies;
    private final int blockSizeShift;
    // Concurrent so that copiesOf can answer without the manager's lock (held across I/O by open).
    private final Map<Integer, Inode> inodes = new java.util.concurrent.ConcurrentHashMap<>();
    private final BitSet inUse = new BitSet(ObjectIds.MAX_VDI_ID + 1);
    private final Map<Integer, Vdi> open = new HashMap<>();
    /**
     * Which node has each VDI open (ID@HOST:PORT), decided in cluster order: a node caches an open
     * VDI's allocation table, so a second node writing the same VDI would miss the first one's
     * allocations and re-create (wipe) its objects. Not persisted: after a restart nothing is open.
     */
    private final Map<Integer, String> locks = new HashMap<>();
    /** Serializes this node's lock transitions (first open, last close) with its handle map. */
    private final Object lockGate = new Object();
    private volatile Ordering ordering = op -> apply(op);
    private volatile String self = "local@local";
    private volatile boolean closed;

    /**
     * How catalogue changes are ordered: a lone manager applies them at once; in a cluster they go
     * through the cluster's total order and every node's manager applies them in that order.
     */
    @FunctionalInterface
    public interface Ordering {
        /** Applies {@code op} everywhere; returns what {@link #apply} returned on this node. */
        Object order(CatalogueOp op);
    }

    public VdiManager(Gateway gateway, ByteBufAllocator alloc, int defaultCopies, int blockSizeShift) {
        this.gateway = gateway;
        this.inodeObjects = new InodeObjects(gateway);
        this.alloc = alloc;
        this.defaultCopies = defaultCopies;
        this.blockSizeShift = blockSizeShift;
    }

    /** Routes catalogue changes through {@code o} (the cluster's total order) from now on. */
    public void ordering(Ordering o) {
        this.ordering = o;
    }

    /** This node as a lock holder: {@code ID@HOST:PORT}, as {@code NodeInfo.toString()} spells it. */
    public void self(String holder) {
        this.self = holder;
    }

    public int defaultCopies() {
        return defaultCopies;
    }

    public long maxVdiSize() {
        return (long) Inode.MAX_DATA_OBJECTS << blockSizeShift;
    }

    /** Loads the inodes found in the store; finishes deletes a crash interrupted. */
    public synchronized void recover(List<Long> inodeOids) {
        for (long oid : inodeOids) {
            Inode in = inodeObjects.readHeader(oid, 1);
            if (in.deleted()) {
                log.info("finishing interrupted delete of VDI {} ({})", in.name(), Integer.toHexString(in.vdiId()));
                purge(in);
                continue;
            }
            register(in);
        }
    }

    public synchronized List<Inode> list() {
        List<Inode> all = new ArrayList<>(inodes.values());
        all.sort(Comparator.comparing(Inode::name).thenComparingLong(Inode::snapCtime));
        return all;
    }

    /** Copies of the VDI with this id (the owner of an object), or 0 when no such VDI is known. */
    public int copiesOf(int vid) {
        Inode in = inodes.get(vid);
        return in == null ? 0 : in.copies();
    }

    /** The working VDI called {@code name}, or with {@code name@tag} its snapshot, as this node knows it now. */
    public synchronized Inode lookup(String exportName) {
        int at = exportName.indexOf('@');
        String name = at < 0 ? exportName : exportName.substring(0, at);
        String tag = at < 0 ? null : exportName.substring(at + 1);
        for (Inode in : inodes.values()) {
            if (!in.name().equals(name)) {
                continue;
            }
            if (tag == null ? !in.isSnapshot() : in.isSnapshot() && (in.tag().equals(tag) || String.valueOf(in.snapId()).equals(tag))) {
                return in;
            }
        }
        throw new KelpieException(Status.NO_VDI, "no VDI named '" + exportName + "'");
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

    /**
     * Creates a VDI: the name is claimed and the id chosen in the cluster's order (so that of two
     * racing creates of one name exactly one wins), then this node writes the inode.
     */
    public Inode create(String name, long size, int copies) {
        validateName(name);
        checkCopies(copies);
        validateSize(size);
        Inode in = (Inode) ordering.order(CatalogueOp.create(name, size, copies, System.currentTimeMillis()));
        try {
            inodeObjects.createHeader(in);
        } catch (KelpieException e) {
            // The name was claimed but the inode could not be stored (too few zones, say): give it back.
            try {
                ordering.order(CatalogueOp.delete(name));
                ordering.order(CatalogueOp.release(in.vdiId()));
            } catch (KelpieException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
        log.info("created VDI {} ({}, id {}, {} copies)", name, size, Integer.toHexString(in.vdiId()), in.copies());
        return in;
    }

    public Inode resize(String name, long newSize) {
        Inode grown = (Inode) ordering.order(CatalogueOp.resize(name, newSize));
        inodeObjects.writeHeader(grown, true);
        log.info("resized VDI {} to {} bytes", name, newSize);
        return grown;
    }

    /**
     * Deletes a VDI: it leaves the catalogue at once (in cluster order), its objects are removed,
     * and only then is its id released for reuse, so a new VDI can never meet the old one's objects.
     */
    public void delete(String exportName) {
        synchronized (this) {
            Inode in = lookup(exportName);
            Vdi handle = open.get(in.vdiId());
            if (handle != null) {
                throw new KelpieException(Status.INVALID, "VDI '" + exportName + "' is in use by " + handle.refs.get()
                        + " client(s); disconnect them first");
            }
        }
        Inode in = (Inode) ordering.order(CatalogueOp.delete(exportName));
        Inode dead = in.asDeleted();
        inodeObjects.writeHeader(dead, true);
        purge(dead);
        ordering.order(CatalogueOp.release(dead.vdiId()));
        log.info("deleted VDI {} (id {})", exportName, Integer.toHexString(in.vdiId()));
    }

    /**
     * Applies a catalogue change to this node's catalogue: a deterministic decision on the
     * catalogue alone (no I/O, no clock), so every node that applies the same sequence agrees.
     */
    public synchronized Object apply(CatalogueOp op) {
        switch (op.kind()) {
            case CREATE -> {
                validateName(op.name());
                checkCopies(op.copies());
                validateSize(op.size());
                for (Inode in : inodes.values()) {
                    if (in.name().equals(op.name()) && !in.isSnapshot()) {
                        throw new KelpieException(Status.VDI_EXISTS, "VDI '" + op.name() + "' already exists");
                    }
                }
                int vid = freeVid(op.name());
                int nCopies = op.copies() > 0 ? op.copies() : defaultCopies;
                Inode in = new Inode(op.name(), "", op.time(), 0, op.size(), nCopies, blockSizeShift, 1, vid, 0, 1, false);
                register(in);
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
                    throw lockedError(in, holder);
                }
                inodes.remove(in.vdiId());
                return in;
            }
            case LOCK -> {
                Inode in = inodes.get(op.vid());
                if (in == null) {
                    throw new KelpieException(Status.NO_VDI, "no VDI named '" + op.name() + "'");
                }
                String holder = locks.get(op.vid());
                if (holder != null && !holder.equals(op.holder())) {
                    throw lockedError(in, holder);
                }
                locks.put(op.vid(), op.holder());
                return null;
            }
            case BARRIER -> {
                return null;
            }
            case UNLOCK -> {
                locks.remove(op.vid(), op.holder());
                return null;
            }
            case RELEASE -> {
                if (!inodes.containsKey(op.vid())) {
                    inUse.clear(op.vid());
                }
                return null;
            }
            default -> throw new KelpieException(Status.INVALID, "unknown catalogue operation " + op.kind());
        }
    }

    private static KelpieException lockedError(Inode in, String holder) {
        int at = holder.indexOf('@');
        return new KelpieException(Status.VDI_LOCKED, "VDI '" + in.displayName() + "' is in use on node "
                + holder.substring(at + 1) + "; use that node or disconnect its clients");
    }

    /**
     * Drops the locks of nodes that are no longer members (they left or crashed: their handles
     * are gone). Called in cluster order with each new epoch's member list.
     */
    public synchronized void retainLocks(java.util.Set<String> members) {
        locks.entrySet().removeIf(e -> {
            if (members.contains(e.getValue())) {
                return false;
            }
            log.info("VDI {} is free: node {} has left", Integer.toHexString(e.getKey()), e.getValue());
            return true;
        });
    }

    /** Who has VDI {@code vid} open (ID@HOST:PORT), or null. */
    public synchronized String lockHolder(int vid) {
        return locks.get(vid);
    }

    /** The catalogue with the current VDI locks, for a node joining the cluster (not for disk). */
    public synchronized byte[] snapshotWithLocks() {
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            out.write(snapshot());
            out.writeInt(locks.size());
            for (Map.Entry<Integer, String> e : locks.entrySet()) {
                out.writeInt(e.getKey());
                out.writeUTF(e.getValue());
            }
            out.flush();
            return bytes.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The catalogue as bytes: every VDI's header and the ids still reserved by unfinished deletes. */
    public synchronized byte[] snapshot() {
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            out.writeInt(inodes.size());
            for (Inode in : inodes.values()) {
                java.nio.ByteBuffer h = InodeCodec.encodeHeader(in);
                byte[] b = new byte[h.remaining()];
                h.get(b);
                out.writeInt(b.length);
                out.write(b);
            }
            BitSet reserved = (BitSet) inUse.clone();
            inodes.keySet().forEach(reserved::clear);
            out.writeInt(reserved.cardinality());
            for (int v = reserved.nextSetBit(0); v >= 0; v = reserved.nextSetBit(v + 1)) {
                out.writeInt(v);
            }
            out.flush();
            return bytes.toByteArray();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Replaces the catalogue with a {@link #snapshot()} (a node joining, or one restarting). */
    public synchronized void restore(byte[] snapshot) {
        try {
            java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(snapshot));
            inodes.clear();
            inUse.clear();
            locks.clear();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                Inode inode = InodeCodec.decodeSlot(java.nio.ByteBuffer.wrap(b));
                if (inode == null) {
                    throw new java.io.IOException("damaged VDI header in the catalogue");
                }
                register(inode);
            }
            int r = in.readInt();
            for (int i = 0; i < r; i++) {
                inUse.set(in.readInt());
            }
            if (in.available() > 0) {
                // Locks (from snapshotWithLocks): none of them can be this node's, which has
                // nothing open yet; one naming it is left from before it restarted.
                String mine = self.substring(0, self.indexOf('@') + 1);
                int l = in.readInt();
                for (int i = 0; i < l; i++) {
                    int vid = in.readInt();
                    String holder = in.readUTF();
                    if (!holder.startsWith(mine) && inodes.containsKey(vid)) {
                        locks.put(vid, holder);
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new KelpieException(Status.IO_ERROR, "corrupt VDI catalogue: " + e.getMessage(), e);
        }
    }

    private void checkCopies(int copies) {
        if (copies < 0 || copies > Inode.MAX_COPIES) {
            throw new KelpieException(Status.INVALID, "copies must be between 1 and " + Inode.MAX_COPIES);
        }
    }

    /**
     * Opens (or shares) the VDI for I/O; pair with {@link Vdi#close()}. The first local open
     * claims the VDI for this node in cluster order; fails with {@link Status#VDI_LOCKED} while
     * another node has it open.
     */
    public Vdi open(String exportName) {
        Vdi shared = openShared(exportName);
        if (shared != null) {
            return shared;
        }
        synchronized (lockGate) {
            shared = openShared(exportName);
            if (shared != null) {
                return shared;
            }
            Inode in = find(exportName);
            boolean claim = !in.isSnapshot(); // snapshots are read-only: any node may read them
            // Ordered without this object's lock: the cluster's thread needs it to apply the op.
            if (claim) {
                ordering.order(CatalogueOp.lock(exportName, in.vdiId(), self));
            }
            try {
                // Loaded after the claim: the table now holds every allocation the last holder made.
                InodeTable table = inodeObjects.loadTable(in);
                synchronized (this) {
                    Inode now = inodes.get(in.vdiId());
                    Vdi vdi = new Vdi(this, gateway, alloc, now != null ? now : in, table);
                    open.put(in.vdiId(), vdi);
                    vdi.refs.incrementAndGet();
                    return vdi;
                }
            } catch (RuntimeException e) {
                if (claim) {
                    unlock(in.vdiId());
                }
                throw e;
            }
        }
    }

    /** Another reference to a handle this node already has open, or null. */
    private synchronized Vdi openShared(String exportName) {
        Vdi vdi = open.get(lookup(exportName).vdiId());
        if (vdi != null) {
            vdi.refs.incrementAndGet();
        }
        return vdi;
    }

    private void unlock(int vid) {
        try {
            ordering.order(CatalogueOp.unlock(vid, self));
        } catch (RuntimeException e) {
            // Dropped anyway when this node leaves the cluster.
            log.warn("releasing the lock on VDI {} failed: {}", Integer.toHexString(vid), KelpieException.messageOf(e));
        }
    }

    /** Which data objects of a VDI are allocated, and the VDI that owns each. */
    public synchronized Map<Long, Integer> allocatedObjects(String exportName) {
        Inode in = lookup(exportName);
        Vdi vdi = open.get(in.vdiId());
        InodeTable table = vdi != null ? vdi.table() : inodeObjects.loadTable(in);
        try {
            Map<Long, Integer> out = new java.util.TreeMap<>();
            for (long i = 0; i < in.objectCount(); i++) {
                int owner = table.get(i);
                if (owner != 0) {
                    out.put(i, owner);
                }
            }
            return out;
        } finally {
            if (vdi == null) {
                table.close();
            }
        }
    }

    /** Drops one reference; the last one closes the handle and gives up this node's claim. Blocks. */
    void release(Vdi vdi) {
        synchronized (this) {
            if (vdi.refs.get() > 1) {
                vdi.refs.decrementAndGet();
                return;
            }
        }
        // Possibly the last: decided under the gate, so no first open claims while we release.
        synchronized (lockGate) {
            int vid;
            synchronized (this) {
                if (vdi.refs.decrementAndGet() != 0) {
                    return;
                }
                vid = vdi.inode().vdiId();
                open.remove(vid);
                vdi.table().close();
            }
            if (!vdi.inode().isSnapshot() && !closed) {
                unlock(vid);
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true; // a replaced catalogue (format) or a stopping node: no claims to give up
        open.values().forEach(v -> v.table().close());
        open.clear();
    }

    private void register(Inode in) {
        inodes.put(in.vdiId(), in);
        inUse.set(in.vdiId());
        Vdi vdi = open.get(in.vdiId());
        if (vdi != null) {
            vdi.updateInode(in);
        }
    }

    /** Removes a deleted VDI's own data objects, then its inode, then frees the id. */
    private void purge(Inode dead) {
        InodeTable table = inodeObjects.loadTable(dead);
        try {
            List<CompletableFuture<Void>> removals = new ArrayList<>();
            for (long i = 0; i < dead.objectCount(); i++) {
                if (table.get(i) == dead.vdiId()) {
                    removals.add(gateway.remove(ObjectIds.dataOid(dead.vdiId(), i), dead.copies()));
                }
            }
            InodeObjects.join(CompletableFuture.allOf(removals.toArray(new CompletableFuture[0])));
        } finally {
            table.close();
        }
        InodeObjects.join(gateway.remove(dead.inodeOid(), dead.copies()));
        inUse.clear(dead.vdiId());
    }

    /** Sheepdog's rule: FNV-1a of the name, 24 bits, then the first free id at or after it. */
    private int freeVid(String name) {
        int start = (int) (Fnv1a.hash(name.getBytes(StandardCharsets.UTF_8)) & ObjectIds.MAX_VDI_ID);
        if (start == 0) {
            start = 1;
        }
        int vid = inUse.nextClearBit(start);
        if (vid > ObjectIds.MAX_VDI_ID) {
            vid = inUse.nextClearBit(1);
        }
        if (vid > ObjectIds.MAX_VDI_ID || vid == 0) {
            throw new KelpieException(Status.VDI_FULL, "no free VDI id left");
        }
        return vid;
    }

    public static int hashVid(String name) {
        int vid = (int) (Fnv1a.hash(name.getBytes(StandardCharsets.UTF_8)) & ObjectIds.MAX_VDI_ID);
        return vid == 0 ? 1 : vid;
    }

    private void validateSize(long size) {
        if (size <= 0) {
            throw new KelpieException(Status.INVALID, "VDI size must be greater than 0");
        }
        if (size > maxVdiSize()) {
            throw new KelpieException(Status.INVALID, "VDI size " + size + " exceeds the maximum of " + maxVdiSize()
                    + " bytes (" + io.kelpie.common.Sizes.format(maxVdiSize()) + ")");
        }
    }

    public static void validateName(String name) {
        if (name == null || name.isEmpty()) {
            throw new KelpieException(Status.INVALID, "VDI name must not be empty");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > Inode.MAX_NAME_BYTES) {
            throw new KelpieException(Status.INVALID, "VDI name is longer than " + Inode.MAX_NAME_BYTES + " bytes");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '@' || c == '/' || Character.isISOControl(c)) {
                throw new KelpieException(Status.INVALID, "VDI name must not contain '@', '/' or control characters");
            }
        }
    }


}
