package io.kelpie.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A node's local objects, addressed by 64-bit object id. Objects are created by their first write
 * and are sparse: bytes never written read as zeros. Calls block; callers keep them off event loops.
 *
 * <p>Durability: a write is visible to later reads at once. It is durable after {@link #sync(long)}
 * of its object or after {@link #flush()}.
 */
public interface ObjectStore extends Closeable {

    /**
     * Reads {@code dst.remaining()} bytes from {@code offset} into {@code dst}, filling bytes
     * that were never written (or the whole range, for an absent object) with zeros.
     *
     * @return whether the object exists
     */
    boolean read(long oid, long offset, ByteBuffer dst) throws IOException;

    /**
     * Reads like {@link #read} but only if it cannot block, because every byte is already in memory
     * (so it may run on an event loop). Returns false, having filled nothing, when it would have to
     * go to the disk, or cannot tell; the caller then uses {@link #read} on an I/O thread.
     */
    default boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        return false;
    }

    /** Writes all of {@code src} at {@code offset}, creating the object if needed. */
    void write(long oid, long offset, ByteBuffer src) throws IOException;

    /** Makes every write to {@code oid} so far durable. */
    void sync(long oid) throws IOException;

    /** Makes every write to every object so far durable. */
    void flush() throws IOException;

    /** Zeroes {@code length} bytes at {@code offset}; no-op for an absent object. */
    void zero(long oid, long offset, long length) throws IOException;

    /** Removes the object durably. @return whether it existed */
    boolean remove(long oid) throws IOException;

    boolean exists(long oid) throws IOException;

    /** Ids of every object held, in no particular order. */
    List<Long> list() throws IOException;

    /** Bytes the objects occupy and bytes still free for new ones. */
    StoreStats stats() throws IOException;

    record StoreStats(long used, long free, long objects) {
    }
}
