package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import io.kelpie.store.FileSlice;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open VDI: byte-addressed I/O mapped onto its data objects. Shared by every client of the VDI
 * on this node (so a flush on one connection covers writes completed on all), reference counted by
 * {@link VdiManager}.
 *
 * <p>Writes to objects the VDI already owns go straight to the gateway. The first write to an
 * object allocates it: the object is created, then its {@code data_vdi_id} entry is written; an
 * object owned by a parent snapshot is copied first (copy-on-write). Allocation and freeing of one
 * index are serialized; the fast path takes no lock.
 */
public final class Vdi {
    private static final ByteBuf ZEROS = Unpooled.unreleasableBuffer(
            Unpooled.directBuffer(1 << Inode.DEFAULT_BLOCK_SIZE_SHIFT).writeZero(1 << Inode.DEFAULT_BLOCK_SIZE_SHIFT)).asReadOnly();

    private final VdiManager manager;
    private final Gateway gateway;
    private final ByteBufAllocator alloc;
    private final InodeTable table;
    private final ConcurrentHashMap<Long, CompletableFuture<Void>> mutating = new ConcurrentHashMap<>();
    private final WriteGate gate = new WriteGate();
    final AtomicInteger refs = new AtomicInteger();
    private volatile Inode inode;

    Vdi(VdiManager manager, Gateway gateway, ByteBufAllocator alloc, Inode inode, InodeTable table) {
        this.manager = manager;
        this.gateway = gateway;
        this.alloc = alloc;
        this.inode = inode;
        this.table = table;
    }

    public Inode inode() {
        return inode;
    }

    void updateInode(Inode updated) {
        this.inode = updated;
    }

    /** The gate a snapshot pauses this handle's writes at. */
    WriteGate gate() {
        return gate;
    }

    public long size() {
        return inode.size();
    }

    public boolean readOnly() {
        return inode.isSnapshot();
    }

    public String name() {
        return inode.displayName();
    }

    /** How many opens share this handle now (clients of this node). */
    public int clients() {
        return refs.get();
    }

    /** Releases this handle; the last release closes the VDI. */
    public void close() {
        manager.release(this);
    }

    InodeTable table() {
        return table;
    }

    VdiManager manager() {
        return manager;
    }

    /** A run of bytes that is either backed by an object or a hole (reads as zeros). */
    public record Extent(long offset, long length, boolean allocated) {
    }

    /** Allocation map of {@code [offset, offset+length)}, adjacent runs of the same kind merged. */
    public List<Extent> extents(long offset, long length) {
        Inode in = inode;
        checkRange(in, offset, length, Status.INVALID);
        List<Extent> out = new ArrayList<>();
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            long idx = pos >>> in.blockSizeShift();
            long next = Math.min(end, (idx + 1) << in.blockSizeShift());
            boolean allocated = table.get(idx) != 0;
            Extent last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.allocated() == allocated) {
                out.set(out.size() - 1, new Extent(last.offset(), next - last.offset(), allocated));
            } else {
                out.add(new Extent(pos, next - pos, allocated));
            }
            pos = next;
        }
        return out;
    }

    /** Reads {@code length} bytes; holes come back as zeros. The caller releases the buffer. */
    public CompletableFuture<ByteBuf> read(long offset, int length) {
        Inode in = inode;
        try {
            checkRange(in, offset, length, Status.INVALID);
        } catch (KelpieException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (length == 0) {
            return CompletableFuture.completedFuture(Unpooled.EMPTY_BUFFER);
        }
        List<CompletableFuture<ByteBuf>> parts = new ArrayList<>();
        forEachSegment(in, offset, length, (idx, objOff, pos, n) -> parts.add(readSegment(in, idx, objOff, (int) n)));
        if (parts.size() == 1) {
            return parts.get(0);
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture[0])).handle((v, err) -> {
            if (err != null) {
                parts.forEach(p -> p.thenAccept(ByteBuf::release));
                throw new KelpieException(KelpieException.statusOf(err), KelpieException.messageOf(err), err);
            }
            CompositeByteBuf c = alloc.compositeDirectBuffer(parts.size());
            parts.forEach(p -> c.addComponent(true, p.join()));
            return c;
        });
    }

    /**
     * The range as a verified slice of this node's copy of its object, when it lies in one allocated
     * object ({@link Gateway#readSlice}); null otherwise, and the caller uses {@link #read}.
     */
    public CompletableFuture<FileSlice> readSlice(long offset, int length) {
        Inode in = inode;
        int shift = in.blockSizeShift();
        long idx = offset >>> shift;
        if (length <= 0 || offset < 0 || offset + length > in.size() || (offset + length - 1) >>> shift != idx) {
            return CompletableFuture.completedFuture(null);
        }
        int owner = table.get(idx);
        return owner == 0 ? CompletableFuture.completedFuture(null)
                : gateway.readSlice(ObjectIds.dataOid(owner, idx), copiesOf(in, owner), offset - (idx << shift), length);
    }

    private CompletableFuture<ByteBuf> readSegment(Inode in, long idx, long objOff, int n) {
        int owner = table.get(idx);
        if (owner == 0) {
            return CompletableFuture.completedFuture(zeros(n));
        }
        // A shared object has the copies of the VDI that owns it (a clone may have other copies).
        return gateway.read(ObjectIds.dataOid(owner, idx), copiesOf(in, owner), objOff, n);
    }

    /** Writes the readable bytes of {@code data} (still owned by the caller) at {@code offset}. */
    public CompletableFuture<Void> write(long offset, ByteBuf data, boolean fua) {
        return gate.run(() -> writeNow(offset, data, fua));
    }

    private CompletableFuture<Void> writeNow(long offset, ByteBuf data, boolean fua) {
        Inode in = inode;
        int length = data.readableBytes();
        try {
            checkWritable(in);
            checkRange(in, offset, length, Status.NO_SPACE);
        } catch (KelpieException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        int base = data.readerIndex();
        forEachSegment(in, offset, length, (idx, objOff, pos, n) ->
                parts.add(writeSegment(in, idx, objOff, data.slice(base + (int) (pos - offset), (int) n), fua)));
        return all(parts);
    }

    /**
     * Zeroes a range. With {@code mayTrim} whole objects are freed (they read as zeros); without it
     * (NBD's NO_HOLE) every byte of the range ends up allocated.
     */
    public CompletableFuture<Void> zero(long offset, long length, boolean fua, boolean mayTrim) {
        return zeroOrTrim(offset, length, fua, mayTrim, true);
    }

    /** Discards a range: whole objects are freed, partial ranges read back as zeros. */
    public CompletableFuture<Void> trim(long offset, long length, boolean fua) {
        return zeroOrTrim(offset, length, fua, true, false);
    }

    /** Whether {@link #zero} of this range needs no data to be written beyond partial objects. */
    public boolean zeroIsFast(long offset, long length, boolean mayTrim) {
        if (mayTrim) {
            return true;
        }
        Inode in = inode;
        for (Extent e : extents(offset, Math.min(length, Math.max(0, in.size() - offset)))) {
            if (!e.allocated()) {
                return false;
            }
        }
        return true;
    }

    public CompletableFuture<Void> flush() {
        return gateway.flush();
    }

    private CompletableFuture<Void> zeroOrTrim(long offset, long length, boolean fua, boolean mayTrim, boolean isZero) {
        return gate.run(() -> zeroOrTrimNow(offset, length, fua, mayTrim, isZero));
    }

    private CompletableFuture<Void> zeroOrTrimNow(long offset, long length, boolean fua, boolean mayTrim, boolean isZero) {
        Inode in = inode;
        try {
            checkWritable(in);
            checkRange(in, offset, length, isZero ? Status.NO_SPACE : Status.INVALID);
        } catch (KelpieException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        long objectSize = in.objectSize();
        forEachSegment(in, offset, length, (idx, objOff, pos, n) -> {
            // the last object of a VDI whose size is no multiple of it is whole when the range runs to the end
            if (mayTrim && (n == objectSize || (objOff == 0 && pos + n == in.size()))) {
                parts.add(free(in, idx, fua));
            } else {
                parts.add(zeroSegment(in, idx, objOff, n, fua, mayTrim));
            }
        });
        return all(parts);
    }

    private CompletableFuture<Void> zeroSegment(Inode in, long idx, long objOff, long n, boolean fua, boolean mayTrim) {
        int owner = table.get(idx);
        if (owner == in.vdiId()) {
            return gateway.zero(ObjectIds.dataOid(owner, idx), in.copies(), objOff, n, fua);
        }
        if (owner == 0 && mayTrim) {
            return CompletableFuture.completedFuture(null);
        }
        return writeSegment(in, idx, objOff, zeros((int) n), fua);
    }

    private CompletableFuture<Void> writeSegment(Inode in, long idx, long objOff, ByteBuf slice, boolean fua) {
        int vid = in.vdiId();
        if (table.get(idx) == vid) {
            return gateway.write(ObjectIds.dataOid(vid, idx), in.copies(), objOff, slice, fua);
        }
        return mutate(idx, () -> {
            int owner = table.get(idx);
            long oid = ObjectIds.dataOid(vid, idx);
            if (owner == vid) {
                return gateway.write(oid, in.copies(), objOff, slice, fua);
            }
            CompletableFuture<Void> created = owner == 0
                    ? gateway.create(oid, in.copies(), objOff, slice, fua)
                    : copyOnWrite(in, owner, idx, objOff, slice, fua);
            return created.thenCompose(v -> setOwner(in, idx, vid, fua));
        });
    }

    /** A new object of this VDI holding the parent's object with {@code slice} laid over it. */
    private CompletableFuture<Void> copyOnWrite(Inode in, int owner, long idx, long objOff, ByteBuf slice, boolean fua) {
        int objectSize = (int) in.objectSize();
        return gateway.read(ObjectIds.dataOid(owner, idx), copiesOf(in, owner), 0, objectSize).thenCompose(old -> {
            old.setBytes((int) objOff, slice, slice.readerIndex(), slice.readableBytes());
            return gateway.create(ObjectIds.dataOid(in.vdiId(), idx), in.copies(), 0, old, fua)
                    .whenComplete((v, e) -> old.release());
        });
    }

    private int copiesOf(Inode in, int owner) {
        if (owner == in.vdiId()) {
            return in.copies();
        }
        int c = manager.copiesOf(owner);
        return c > 0 ? c : in.copies();
    }

    private CompletableFuture<Void> free(Inode in, long idx, boolean fua) {
        if (table.get(idx) == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return mutate(idx, () -> {
            int owner = table.get(idx);
            if (owner == 0) {
                return CompletableFuture.completedFuture(null);
            }
            // The entry goes first: a crash between the two steps leaves an orphan object that the
            // next allocation of this index recreates, never a table entry pointing at nothing.
            CompletableFuture<Void> cleared = setOwner(in, idx, 0, fua);
            return owner != in.vdiId() ? cleared
                    : cleared.thenCompose(v -> gateway.remove(ObjectIds.dataOid(owner, idx), in.copies()));
        });
    }

    private CompletableFuture<Void> setOwner(Inode in, long idx, int vid, boolean sync) {
        ByteBuf entry = Unpooled.wrappedBuffer(InodeTable.encodeEntry(vid));
        return gateway.write(in.inodeOid(), in.copies(), InodeCodec.tableEntryOffset(idx), entry, sync)
                .thenRun(() -> table.set(idx, vid));
    }

    /** Runs {@code action} once no other allocation or free of {@code idx} is in flight. */
    private CompletableFuture<Void> mutate(long idx, java.util.function.Supplier<CompletableFuture<Void>> action) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> before = mutating.put(idx, mine);
        CompletableFuture<Void> start = before == null ? CompletableFuture.completedFuture(null)
                : before.handle((v, e) -> null);
        CompletableFuture<Void> result = start.thenCompose(v -> action.get());
        result.whenComplete((v, e) -> {
            mutating.remove(idx, mine);
            mine.complete(null);
        });
        return result;
    }

    private ByteBuf zeros(int n) {
        // Slices of an unreleasable buffer: releasing them is a no-op, so callers may treat them like any read.
        return n <= ZEROS.capacity() ? ZEROS.slice(0, n) : Unpooled.wrappedBuffer(new byte[n]);
    }

    private interface SegmentConsumer {
        void accept(long index, long objectOffset, long position, long length);
    }

    private static void forEachSegment(Inode in, long offset, long length, SegmentConsumer consumer) {
        long objectSize = in.objectSize();
        long end = offset + length;
        for (long pos = offset; pos < end; ) {
            long idx = pos >>> in.blockSizeShift();
            long objOff = pos & (objectSize - 1);
            long n = Math.min(end - pos, objectSize - objOff);
            consumer.accept(idx, objOff, pos, n);
            pos += n;
        }
    }

    private static void checkWritable(Inode in) {
        if (in.isSnapshot()) {
            throw new KelpieException(Status.READ_ONLY, "VDI " + in.displayName() + " is a read-only snapshot");
        }
    }

    private static void checkRange(Inode in, long offset, long length, Status past) {
        if (offset < 0 || length < 0 || offset + length > in.size() || offset + length < 0) {
            throw new KelpieException(past, "range " + offset + "+" + length + " is beyond the end of VDI "
                    + in.displayName() + " (" + in.size() + " bytes)");
        }
    }

    private static CompletableFuture<Void> all(List<CompletableFuture<Void>> parts) {
        return parts.size() == 1 ? parts.get(0) : CompletableFuture.allOf(parts.toArray(new CompletableFuture[0]));
    }
}
