package io.kelpie.store;

import io.kelpie.common.ObjectIds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One sparse file per object under {@code DIR}, named by the object id in hex, plus a sidecar
 * {@code <hex>.meta} with its version and a crc32c per 4 KiB block ({@link BlockTable}).
 * Positional I/O through cached {@link FileChannel}s; writes go to the page cache and become
 * durable on {@link #sync} or {@link #flush}, which fsync exactly the files (data, then table, and
 * the directory) made dirty.
 *
 * <p>Checksums are per block, not per object: a 4 KiB write into a 4 MiB object must not re-read
 * the object. A write pwrites the data, then stores the blocks' entries and the bumped version
 * into the table's shared mapping (memory stores, no system call), all under the object's lock.
 * Nothing orders the two files on the way to the disk before a sync, so after a crash a block
 * whose write was in flight may not match its entry: it is "torn", and handled like bit rot (the
 * read fails with {@link ChecksumException}, the caller serves it from another replica and
 * repairs). Synced data always matches. {@link #install} replaces both files atomically with a
 * commit file ({@link ObjectFiles}). Objects from before checksums (no {@code .meta}) are taken
 * as they are, at version 1, their table computed when first opened.
 *
 * <p>Readers take no lock: a block that fails to verify is re-read under the object's lock before
 * it counts as bad, since a write may have been between its data and its entry.
 *
 * <p>{@link #tryReadCached} serves reads whose pages are resident without waiting: an I/O thread
 * that touched an object maps its file read-only, a later read checks residency of its pages
 * there (mincore) and then preads them; {@link #tryWrite} writes an open object whose lock is free.
 */
public final class FileObjectStore implements ObjectStore {
    /**
     * Large writes go to the file in pieces of this size. The kernel sizes a new page-cache folio
     * after the write that creates it, and ext4's write_begin walks every block of the folio: after
     * 1 MiB pwrites, each later 4 KiB write paid for 256 blocks (ext4_block_write_begin ~20% of the
     * node's CPU on randwrite4k). 0 writes in one piece.
     */
    static final int WRITE_PIECE = Integer.getInteger("kelpie.writePiece", 64 << 10);

    private final Path dir;
    private final ChannelCache channels;
    private final Set<Long> dirty = ConcurrentHashMap.newKeySet();
    /** Striped per-object locks: one write (data + entries + version) at a time per object. */
    private final ReentrantLock[] locks = new ReentrantLock[256];
    final ObjectFiles files;
    final SpaceReserve reserve;
    private volatile boolean dirDirty;

    public FileObjectStore(Path dir) throws IOException {
        this(dir, 4096, SpaceReserve.NONE);
    }

    public FileObjectStore(Path dir, int maxOpenFiles) throws IOException {
        this(dir, maxOpenFiles, SpaceReserve.NONE);
    }

    /** A store whose data writes leave {@code reserve} free for metadata ({@link SpaceReserve}). */
    public FileObjectStore(Path dir, int maxOpenFiles, SpaceReserve reserve) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.reserve = reserve;
        this.channels = new ChannelCache(maxOpenFiles);
        for (int i = 0; i < locks.length; i++) {
            locks[i] = new ReentrantLock();
        }
        this.files = new ObjectFiles(this);
        files.recover();
    }

    public Path dir() {
        return dir;
    }

    public Path pathOf(long oid) {
        return dir.resolve(ObjectIds.toHex(oid));
    }

    /** The object's sidecar: version and block checksums. */
    public Path metaPathOf(long oid) {
        return dir.resolve(ObjectIds.toHex(oid) + ".meta");
    }

    ChannelCache channels() {
        return channels;
    }

    ReentrantLock lock(long oid) {
        long h = oid * 0x9E3779B97F4A7C15L;
        return locks[(int) (h >>> 56)];
    }

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        ChannelCache.Handle h = open(oid, false);
        if (h == null) {
            FileIo.fillZeros(dst);
            return false;
        }
        try {
            long end = offset + dst.remaining();
            Verify.read(this, h, oid, offset, dst);
            h.mapCovering(end);
            return true;
        } finally {
            h.release();
        }
    }

    @Override
    public boolean readWithEntries(long oid, ByteBuffer dst, int[] entries) throws IOException {
        ChannelCache.Handle h = open(oid, false);
        if (h == null) {
            return ObjectStore.super.readWithEntries(oid, dst, entries); // absent: zeros
        }
        try {
            return Verify.readWithEntries(this, h, oid, dst, entries);
        } finally {
            h.release();
        }
    }

    @Override
    public FileSlice readSlice(long oid, long offset, int length) throws IOException {
        return Slices.read(this, oid, offset, length);
    }

    @Override
    public boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        ChannelCache.Handle h = channels.acquire(oid);
        if (h == null) {
            return false;
        }
        try {
            return Verify.readCached(h, offset, dst);
        } finally {
            h.release();
        }
    }

    @Override
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        write(oid, offset, new ByteBuffer[] {src});
    }

    @Override
    public void write(long oid, long offset, ByteBuffer[] srcs) throws IOException {
        Lock held = lock(oid);
        held.lock();
        try {
            writeOpen(open(oid, true), oid, offset, srcs, true);
        } catch (io.kelpie.common.KelpieException e) { // NO_SPACE (others are IOExceptions)
            NoSpace.dropIfEmpty(this, oid); // a write that would have created the object: none
            throw e;
        } finally {
            held.unlock();
        }
    }

    /** Only an object whose channel is cached, and whose lock is free: no open, no wait. */
    @Override
    public boolean tryWrite(long oid, long offset, ByteBuffer src) throws IOException {
        ReentrantLock held = lock(oid);
        if (!held.tryLock()) {
            return false;
        }
        try {
            ChannelCache.Handle h = channels.acquire(oid);
            return h != null && writeOpen(h, oid, offset, new ByteBuffer[] {src}, false);
        } finally {
            held.unlock();
        }
    }

    /** Under the object's lock: writes {@code srcs} through {@code h} if the reserve lets it, then releases it. */
    private boolean writeOpen(ChannelCache.Handle h, long oid, long offset, ByteBuffer[] srcs, boolean mayMeasure)
            throws IOException {
        ByteBuffer[] data = new ByteBuffer[srcs.length];
        long taken = 0;
        try {
            if ((taken = reserve.takeForWrite(h.table(), oid, offset, srcs, mayMeasure)) < 0) {
                return false;
            }
            dirty.add(oid);
            long pos = offset;
            for (int i = 0; i < srcs.length; i++) {
                data[i] = srcs[i].duplicate();
                pos = FileIo.writeInPieces(h.channel(), srcs[i], pos, WRITE_PIECE);
            }
            Verify.update(h, offset, data); // data, then entries: a crash in between is a torn block
            BlockTable t = h.table();
            t.setVersion(t.version() + 1);
            h.mapCovering(pos);
            return true;
        } catch (IOException e) {
            NoSpace.settle(h, offset, NoSpace.reached(offset, data, srcs)); // no torn blocks, no new version
            throw FileIo.translate(e);
        } finally {
            reserve.done(taken);
            h.release();
        }
    }

    @Override
    public void sync(long oid) throws IOException {
        if (dirDirty) {
            syncDir();
        }
        if (!dirty.remove(oid)) {
            return;
        }
        ChannelCache.Handle h = open(oid, false);
        if (h != null) {
            try {
                h.channel().force(false);
                h.table().force();
            } catch (IOException e) {
                dirty.add(oid);
                throw e;
            } finally {
                h.release();
            }
        }
    }

    @Override
    public void flush() throws IOException {
        for (Long oid : List.copyOf(dirty)) {
            sync(oid);
        }
        if (dirDirty) {
            syncDir();
        }
    }

    @Override
    public void zero(long oid, long offset, long length) throws IOException {
        withHandle(oid, null, h -> {
            dirty.add(oid);
            Allocation.zero(h, offset, length); // only blocks holding data: a trim never needs new space
            return null;
        });
    }

    private interface HandleCall<T> {
        T run(ChannelCache.Handle h) throws IOException;
    }

    /** {@code call} with the object's handle, under its lock; {@code absent} when there is no such object. */
    private <T> T withHandle(long oid, T absent, HandleCall<T> call) throws IOException {
        Lock held = lock(oid);
        held.lock();
        try {
            ChannelCache.Handle h = open(oid, false);
            if (h == null) {
                return absent;
            }
            try {
                return call.run(h);
            } finally {
                h.release();
            }
        } finally {
            held.unlock();
        }
    }

    @Override
    public boolean remove(long oid) throws IOException {
        boolean existed;
        Lock held = lock(oid);
        held.lock();
        try {
            evict(oid);
            // data first: a crash in between leaves an orphan table, which no object uses
            existed = Files.deleteIfExists(pathOf(oid));
            existed |= Files.deleteIfExists(metaPathOf(oid));
        } finally {
            held.unlock();
        }
        if (existed) {
            reserve.freed();
            syncDir();
        }
        return existed;
    }

    @Override
    public boolean exists(long oid) {
        return Files.exists(pathOf(oid));
    }

    @Override
    public long size(long oid) throws IOException {
        try {
            return Files.size(pathOf(oid));
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    @Override
    public List<Long> list() throws IOException {
        return files.list();
    }

    @Override
    public StoreStats stats() throws IOException {
        return files.stats();
    }

    @Override
    public long version(long oid) throws IOException {
        return withHandle(oid, 0L, h -> h.table().version());
    }

    @Override
    public void create(long oid, long version) throws IOException {
        files.create(oid, version);
    }

    @Override
    public void install(long oid, long version, ByteBuffer content) throws IOException {
        files.install(oid, version, content);
    }

    @Override
    public void installPacked(long oid, long version, int length, int[] entries, ByteBuffer packed) throws IOException {
        files.install(oid, version, length, entries, packed);
    }

    @Override
    public ObjectMeta stat(long oid, boolean verify) throws IOException {
        ChannelCache.Handle h = open(oid, false);
        if (h == null) {
            return ObjectMeta.ABSENT;
        }
        try {
            return Verify.stat(this, h, oid, verify);
        } finally {
            h.release();
        }
    }

    @Override
    public void resetChecksums(long oid) throws IOException {
        withHandle(oid, null, h -> {
            dirty.add(oid);
            Verify.recompute(h);
            return null;
        });
    }

    /** Moves the object (data and table, durably) to {@code dest} on the same file system, replacing any copy there. */
    public void moveTo(long oid, FileObjectStore dest) throws IOException {
        files.moveTo(oid, dest);
    }

    @Override
    public void close() throws IOException {
        flush();
        channels.close();
    }

    /** The object's cached handle, opening (and with {@code create}, creating) it; null when absent. */
    ChannelCache.Handle open(long oid, boolean create) throws IOException {
        ChannelCache.Handle h = channels.acquire(oid);
        return h != null ? h : files.open(oid, create);
    }

    void evict(long oid) {
        channels.evict(oid);
        dirty.remove(oid);
    }

    void markDirty(long oid) {
        dirty.add(oid);
        dirDirty = true;
    }

    synchronized void syncDir() throws IOException {
        dirDirty = false;
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            dirDirty = true;
            throw e;
        }
    }
}
