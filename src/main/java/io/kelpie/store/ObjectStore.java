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
 *
 * <p>Every object carries a <em>version</em>, a 64-bit count kept with it: {@link #create} sets
 * it, every {@link #write} and {@link #zero} adds one, {@link #install} sets it with the content.
 * Replicas that applied the same writes have the same version; one that missed writes has a lower
 * one. Recovery and repair use it to pick the newest replica.
 *
 * <p>Every object also carries checksums of its content (crc32c per {@link #BLOCK_SIZE} block),
 * kept consistent with the data across crashes. A read of a block whose checksum does not match
 * fails with {@link ChecksumException}; callers serve the read from another replica and repair.
 */
public interface ObjectStore extends Closeable {

    /** The unit of checksumming. */
    int BLOCK_SIZE = 4096;

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

    /**
     * Reads like {@link #read}, verified, but hands back the range of the object's file instead of
     * its bytes (see {@link FileSlice}); the caller closes it. Null, having read nothing, where the
     * store cannot: not file-backed, an absent object, or a range past the file's end (holes read
     * as zeros, which a file cannot send). Blocks; I/O threads only.
     */
    default FileSlice readSlice(long oid, long offset, int length) throws IOException {
        return null;
    }

    /**
     * Writes like {@link #write} but only if it need not wait for a lock or open a file, so that a
     * small page-cache write may run on an event loop. Returns false, having written nothing, when
     * it would; the caller then uses {@link #write} on an I/O thread. The object must exist.
     */
    default boolean tryWrite(long oid, long offset, ByteBuffer src) throws IOException {
        return false;
    }

    /** Writes all of {@code src} at {@code offset}, creating the object if needed. */
    void write(long oid, long offset, ByteBuffer src) throws IOException;

    /**
     * Writes {@code srcs} one after the other from {@code offset} as <em>one</em> write (one
     * version), as a composite buffer's pieces: the replica that got a payload in pieces must end
     * at the version of one that got it whole.
     */
    default void write(long oid, long offset, ByteBuffer[] srcs) throws IOException {
        int n = 0;
        for (ByteBuffer b : srcs) {
            n += b.remaining();
        }
        ByteBuffer all = ByteBuffer.allocate(n);
        for (ByteBuffer b : srcs) {
            all.put(b);
        }
        write(oid, offset, all.flip());
    }

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

    /** The object's version; 0 when it does not exist. */
    long version(long oid) throws IOException;

    /**
     * Creates the object afresh and empty (all zeros; it exists) at {@code version}, replacing any
     * old content; a following write makes it {@code version + 1}.
     */
    void create(long oid, long version) throws IOException;

    /**
     * Replaces the object with {@code content} (its whole content from offset 0; bytes past it read
     * as zeros) at {@code version}, durably and atomically: a crash leaves the old object or the new
     * one (recovery and repair install a copy fetched from another replica this way).
     */
    void install(long oid, long version, ByteBuffer content) throws IOException;

    /**
     * Reads like {@link #read} from offset 0 and sets {@code entries[i]} to the checksum entry of
     * block {@code i} read (0: all zeros), as verified, so that a fetch can ship them with the
     * bytes and the receiver need not compute them again. {@code entries} covers the blocks of
     * {@code dst.remaining()} bytes.
     */
    default boolean readWithEntries(long oid, ByteBuffer dst, int[] entries) throws IOException {
        int start = dst.position();
        boolean exists = read(oid, 0, dst);
        ByteBuffer got = dst.duplicate().limit(dst.position()).position(start);
        for (int i = 0; i < entries.length; i++) {
            entries[i] = Checksums.blockEntry(got, i);
        }
        return exists;
    }

    /**
     * Installs like {@link #install} an object of {@code length} bytes given as its block entries
     * and {@code packed}, the bytes of its non-zero blocks (entry not 0) one after the other, the
     * last one cut at {@code length}: what a packed FETCH_OBJ carries. The entries are the sender's,
     * which verified them against those bytes; they are taken as they are.
     */
    default void installPacked(long oid, long version, int length, int[] entries, ByteBuffer packed) throws IOException {
        install(oid, version, Checksums.unpack(length, entries, packed));
    }

    /**
     * The object's version and a digest of its content's checksums (equal content, equal digest),
     * and with {@code verify} whether every block's bytes match its checksum (reads the whole object).
     */
    ObjectMeta stat(long oid, boolean verify) throws IOException;

    /**
     * Recomputes every checksum of the object from the bytes it holds, keeping its version: "accept
     * what is there", the last resort when no replica of a block verifies. No-op when absent.
     */
    void resetChecksums(long oid) throws IOException;

    /** The bytes the object's content extends over (bytes past it read as zeros); 0 when absent. */
    long size(long oid) throws IOException;

    /**
     * @param badBlocks with {@code verify}, the indexes of blocks whose bytes do not match their
     *                  checksum (empty: all good, or not verified)
     */
    record ObjectMeta(boolean exists, long version, int digest, List<Integer> badBlocks) {
        public static final ObjectMeta ABSENT = new ObjectMeta(false, 0, 0, List.of());

        public boolean verified() {
            return badBlocks.isEmpty();
        }
    }
}
