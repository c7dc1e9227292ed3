package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * Space on the data file system that data writes may not take, the way ext4 keeps blocks for
 * root: once the data objects have filled the disk to the reserve, the writes that free space (a
 * VDI's delete marks its inode deleted before its objects go) and the node's own bookkeeping
 * (inode headers and tables, the catalogue, the epoch log, the cluster config) still fit. Without
 * it a disk filled to its last block cannot even be emptied: the delete's inode write fails with
 * ENOSPC and nothing is freed.
 *
 * <p>Who may take what: a write that may allocate into a data object must leave the whole reserve
 * free; creating a metadata (inode) object must leave half of it (so a loop of {@code vdi create}
 * on a full disk cannot use up what a delete needs); a write into an existing inode object, and
 * every write outside the object store, is never refused here (only by the disk itself). Writes
 * that allocate nothing (overwrites of blocks that hold data) are not looked at at all.
 *
 * <p>Cost: the free space is one statvfs ({@link FileStore#getUsableSpace}), measured at most
 * every {@link #MEASURE_NANOS} while writes allocate; in between, the bytes admitted are counted
 * down from the last measure, so concurrent writers cannot all pass on one stale number. A write
 * still running when a measure is taken may not be in it yet: its bytes stay counted. Before a
 * refusal the space is measured again (at most every {@link #REMEASURE_NANOS}), so space a delete
 * freed is seen at once; a removal makes the next write measure. Measured on ext4 (2 shared
 * cores): a statvfs is 0.7-0.85 us, against 1.6-2 us for a 4 KiB overwrite and 4-8 us for a 4 KiB
 * write into new blocks, so paying it per write would cost 15-40%; as it is, fio randwrite 4k over
 * NBD (one node) is within run-to-run noise with and without a reserve.
 *
 * <p>What it cannot do: space taken by other programs on the same file system is seen only at the
 * next measure, and a program that fills the disk to its last block takes the reserve too. Give
 * the data directory a file system of its own.
 */
public final class SpaceReserve {
    /** The default reserve is 2% of the file system, at least this... */
    public static final long MIN_DEFAULT = 4L << 20;
    /** ...and at most this. */
    public static final long MAX_DEFAULT = 64L << 20;
    static final long MEASURE_NANOS = 100_000_000L;
    static final long REMEASURE_NANOS = 10_000_000L;

    /** No reserve: nothing is ever refused or measured (tests, the stale-copies store). */
    public static final SpaceReserve NONE = new SpaceReserve(() -> Long.MAX_VALUE, 0, System::nanoTime);

    /** The file system's usable bytes (statvfs f_bavail). */
    public interface FreeSpace {
        long usable() throws IOException;
    }

    /** What {@link #admit} answers. */
    enum Verdict { ADMITTED, REFUSED, MUST_MEASURE }

    private final FreeSpace space;
    private final long reserve;
    private final LongSupplier clock;
    // All under this object's monitor: a few arithmetic operations per allocating write.
    private long free;
    private long counted; // bytes admitted since the measure (or in flight when it was taken)
    private long inFlight; // bytes admitted whose writes have not finished
    private long measuredAt;
    private boolean stale = true;

    SpaceReserve(FreeSpace space, long reserve, LongSupplier clock) {
        if (reserve < 0) {
            throw new IllegalArgumentException("a reserve cannot be negative: " + reserve);
        }
        this.space = space;
        this.reserve = reserve;
        this.clock = clock;
    }

    /** A reserve of {@code bytes} on the file system of {@code dir}; a negative {@code bytes} takes {@link #defaultFor}. */
    public static SpaceReserve on(Path dir, long bytes) throws IOException {
        FileStore fs = Files.getFileStore(dir);
        long r = bytes >= 0 ? bytes : defaultFor(fs.getTotalSpace());
        return r == 0 ? NONE : new SpaceReserve(fs::getUsableSpace, r, System::nanoTime);
    }

    /** 2% of a file system of {@code total} bytes, between {@link #MIN_DEFAULT} and {@link #MAX_DEFAULT}. */
    public static long defaultFor(long total) {
        return Math.max(MIN_DEFAULT, Math.min(MAX_DEFAULT, total / 50));
    }

    public long bytes() {
        return reserve;
    }

    /** Whether writes into object {@code oid} must leave the whole reserve (a data or vmstate object) or none. */
    static boolean isData(long oid) {
        return !ObjectIds.isInode(oid) && (oid & ObjectIds.VDI_ATTR_BIT) == 0;
    }

    /**
     * Takes {@code bytes} (more than 0) that a change of {@code oid} may allocate, or throws
     * NO_SPACE; with {@code created}, the change creates the object. The caller calls
     * {@link #done} with the same bytes when the change has finished, failed or not.
     */
    void take(long oid, long bytes, boolean created) throws IOException {
        if (admit(oid, bytes, created, true) == Verdict.REFUSED) {
            throw refusal(oid, bytes);
        }
    }

    /**
     * Takes what a write of {@code srcs} from {@code offset} into the existing object {@code oid}
     * (table {@code t}) may allocate ({@link Allocation}): the bytes taken, 0 for none (an
     * overwrite), or -1 when it would have to measure and {@code mayMeasure} is false (an event
     * loop then hands the write to an I/O thread). Throws NO_SPACE when refused.
     */
    long takeForWrite(BlockTable t, long oid, long offset, ByteBuffer[] srcs, boolean mayMeasure) throws IOException {
        long bytes = reserve == 0 ? 0 : Allocation.mayAllocate(t, offset, srcs);
        if (bytes == 0) {
            return 0;
        }
        Verdict v = admit(oid, bytes, false, mayMeasure);
        if (v == Verdict.REFUSED) {
            throw refusal(oid, bytes);
        }
        return v == Verdict.ADMITTED ? bytes : -1;
    }

    KelpieException refusal(long oid, long bytes) {
        return new KelpieException(Status.NO_SPACE, "no space left on the node's disk for data (the last "
                + io.kelpie.common.Sizes.format(reserve) + " are kept for metadata: node run --reserve)");
    }

    private synchronized Verdict admit(long oid, long bytes, boolean created, boolean mayMeasure) throws IOException {
        if (reserve == 0) {
            return Verdict.ADMITTED; // NONE: not even counted
        }
        long floor = isData(oid) ? reserve : created ? reserve / 2 : Long.MIN_VALUE;
        long now = clock.getAsLong();
        if (stale || now - measuredAt >= MEASURE_NANOS) {
            if (!mayMeasure) {
                return Verdict.MUST_MEASURE;
            }
            measure(now);
        }
        if (free - counted - bytes < floor) {
            if (!mayMeasure) {
                return Verdict.MUST_MEASURE; // space may have come back: the I/O thread looks
            }
            if (now - measuredAt >= REMEASURE_NANOS) {
                measure(now);
            }
            if (free - counted - bytes < floor) {
                return Verdict.REFUSED;
            }
        }
        counted += bytes;
        inFlight += bytes;
        return Verdict.ADMITTED;
    }

    private void measure(long now) throws IOException {
        free = space.usable();
        counted = inFlight; // those may have written nothing yet when the file system was asked
        measuredAt = now;
        stale = false;
    }

    /** The change that took {@code bytes} has finished. */
    void done(long bytes) {
        if (bytes > 0) {
            synchronized (this) {
                inFlight -= bytes;
            }
        }
    }

    /** Space was freed (an object removed): the next allocating write measures. */
    void freed() {
        if (reserve != 0) {
            synchronized (this) {
                stale = true;
            }
        }
    }

    /** Whether a data write of one block would be admitted now (measuring if due); for the store's probe. */
    public boolean roomForData() {
        if (reserve == 0) {
            return true;
        }
        try {
            synchronized (this) {
                long now = clock.getAsLong();
                if (stale || now - measuredAt >= REMEASURE_NANOS) {
                    measure(now);
                }
                return free - counted - ObjectStore.BLOCK_SIZE >= reserve;
            }
        } catch (IOException e) {
            return true; // the probe's own write tells whether the disk answers
        }
    }

    @Override
    public String toString() {
        return reserve == 0 ? "no space reserve" : "a space reserve of " + io.kelpie.common.Sizes.format(reserve);
    }
}
