package io.kelpie.vdi;

import io.kelpie.common.Fnv1a;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
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
    private final ByteBufAllocator alloc;
    private final int defaultCopies;
    private final int blockSizeShift;
    private final Map<Integer, Inode> inodes = new HashMap<>();
    private final BitSet inUse = new BitSet(ObjectIds.MAX_VDI_ID + 1);
    private final Map<Integer, Vdi> open = new HashMap<>();

    public VdiManager(Gateway gateway, ByteBufAllocator alloc, int defaultCopies, int blockSizeShift) {
        this.gateway = gateway;
        this.alloc = alloc;
        this.defaultCopies = defaultCopies;
        this.blockSizeShift = blockSizeShift;
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
            Inode in = readHeader(oid, 1);
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

    /** The working VDI called {@code name}, or with {@code name@tag} its snapshot. */
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

    public synchronized Inode create(String name, long size, int copies) {
        validateName(name);
        int nCopies = copies > 0 ? copies : defaultCopies;
        if (nCopies > Inode.MAX_COPIES) {
            throw new KelpieException(Status.INVALID, "copies must be between 1 and " + Inode.MAX_COPIES);
        }
        validateSize(size);
        for (Inode in : inodes.values()) {
            if (in.name().equals(name) && !in.isSnapshot()) {
                throw new KelpieException(Status.VDI_EXISTS, "VDI '" + name + "' already exists");
            }
        }
        int vid = freeVid(name);
        Inode in = new Inode(name, "", System.currentTimeMillis(), 0, size, nCopies, blockSizeShift, 1, vid, 0, 1, false);
        writeHeader(in, true);
        register(in);
        log.info("created VDI {} ({}, id {}, {} copies)", name, size, Integer.toHexString(vid), nCopies);
        return in;
    }

    public synchronized Inode resize(String name, long newSize) {
        Inode in = lookup(name);
        if (in.isSnapshot()) {
            throw new KelpieException(Status.READ_ONLY, "cannot resize snapshot '" + in.displayName() + "'");
        }
        if (newSize < in.size()) {
            throw new KelpieException(Status.INVALID, "cannot shrink VDI '" + name + "' from " + in.size() + " to "
                    + newSize + " bytes: shrinking would destroy data, only growing is supported");
        }
        validateSize(newSize);
        Inode grown = in.withSize(newSize);
        writeHeader(grown, true);
        register(grown);
        log.info("resized VDI {} from {} to {} bytes", name, in.size(), newSize);
        return grown;
    }

    public synchronized void delete(String exportName) {
        Inode in = lookup(exportName);
        Vdi handle = open.get(in.vdiId());
        if (handle != null) {
            throw new KelpieException(Status.INVALID, "VDI '" + exportName + "' is in use by " + handle.refs.get()
                    + " client(s); disconnect them first");
        }
        Inode dead = in.asDeleted();
        writeHeader(dead, true);
        inodes.remove(in.vdiId());
        purge(dead);
        log.info("deleted VDI {} (id {})", exportName, Integer.toHexString(in.vdiId()));
    }

    /** Opens (or shares) the VDI for I/O; pair with {@link Vdi#close()}. */
    public synchronized Vdi open(String exportName) {
        Inode in = lookup(exportName);
        Vdi vdi = open.get(in.vdiId());
        if (vdi == null) {
            vdi = new Vdi(this, gateway, alloc, in, loadTable(in));
            open.put(in.vdiId(), vdi);
        }
        vdi.refs.incrementAndGet();
        return vdi;
    }

    /** Which data objects of a VDI are allocated, and the VDI that owns each. */
    public synchronized Map<Long, Integer> allocatedObjects(String exportName) {
        Inode in = lookup(exportName);
        Vdi vdi = open.get(in.vdiId());
        InodeTable table = vdi != null ? vdi.table() : loadTable(in);
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

    synchronized void release(Vdi vdi) {
        if (vdi.refs.decrementAndGet() == 0) {
            open.remove(vdi.inode().vdiId());
            vdi.table().close();
        }
    }

    @Override
    public synchronized void close() {
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
        InodeTable table = loadTable(dead);
        try {
            List<CompletableFuture<Void>> removals = new ArrayList<>();
            for (long i = 0; i < dead.objectCount(); i++) {
                if (table.get(i) == dead.vdiId()) {
                    removals.add(gateway.remove(ObjectIds.dataOid(dead.vdiId(), i), dead.copies()));
                }
            }
            join(CompletableFuture.allOf(removals.toArray(new CompletableFuture[0])));
        } finally {
            table.close();
        }
        join(gateway.remove(dead.inodeOid(), dead.copies()));
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

    private void writeHeader(Inode in, boolean sync) {
        ByteBuf slot = Unpooled.wrappedBuffer(InodeCodec.encodeHeader(in));
        join(gateway.write(in.inodeOid(), in.copies(), InodeCodec.slotOffset(in.version()), slot, sync));
    }

    private Inode readHeader(long oid, int copies) {
        ByteBuf both = join(gateway.read(oid, copies, 0, 2 * InodeCodec.SLOT_SIZE));
        try {
            return InodeCodec.decodeHeader(both.nioBuffer(), oid);
        } finally {
            both.release();
        }
    }

    private InodeTable loadTable(Inode in) {
        InodeTable table = new InodeTable(Inode.MAX_DATA_OBJECTS);
        int bytes = (int) Math.min((long) Inode.MAX_DATA_OBJECTS, Math.max(1, in.objectCount())) * 4;
        ByteBuf raw = join(gateway.read(in.inodeOid(), in.copies(), InodeCodec.TABLE_OFFSET, bytes));
        try {
            table.load(raw);
        } catch (RuntimeException e) {
            table.close();
            throw e;
        } finally {
            raw.release();
        }
        return table;
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

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            if (c instanceof KelpieException ke) {
                throw ke;
            }
            throw new KelpieException(Status.IO_ERROR, KelpieException.messageOf(c), c);
        }
    }
}
