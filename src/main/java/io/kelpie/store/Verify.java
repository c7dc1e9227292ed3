package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Lock;

/**
 * {@link FileObjectStore}'s block checksum work: the verified read paths, and updating the table
 * after writes. Verification is lock-free; a block that fails is re-read under the object's
 * lock before it counts as bad (a write may have been between its data and its entry).
 */
final class Verify {
    private static final int BLOCK = ObjectStore.BLOCK_SIZE;
    private static final int CHUNK = 1 << 20;

    private Verify() {
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset} from an open object, verified. */
    static void read(FileObjectStore store, ChannelCache.Handle h, long oid, long offset, ByteBuffer dst)
            throws IOException {
        int n = dst.remaining();
        if ((offset & (BLOCK - 1)) == 0 && (n & (BLOCK - 1)) == 0) {
            int start = dst.position();
            FileIo.readFully(h.channel(), offset, dst);
            blocks(store, h, oid, offset, dst.duplicate().position(start));
        } else {
            // verification needs whole blocks: read the covering ones, hand back the range
            long from = offset & -BLOCK;
            ByteBuffer cover = ByteBuffer.allocate((int) (((offset + n + BLOCK - 1) & -BLOCK) - from));
            FileIo.readFully(h.channel(), from, cover);
            blocks(store, h, oid, from, cover.flip());
            dst.put(cover.position((int) (offset - from)).limit((int) (offset - from) + n));
        }
    }

    /** The object's content from offset 0 into {@code dst}, verified, with the entries it was verified against. */
    static boolean readWithEntries(FileObjectStore store, ChannelCache.Handle h, long oid, ByteBuffer dst, int[] entries)
            throws IOException {
        int start = dst.position();
        if ((dst.remaining() & (BLOCK - 1)) != 0) {
            read(store, h, oid, 0, dst); // an odd length (never an object's): its entries computed afresh
            ByteBuffer got = dst.duplicate().limit(dst.position()).position(start);
            for (int i = 0; i < entries.length; i++) {
                entries[i] = Checksums.blockEntry(got, i);
            }
        } else {
            FileIo.readFully(h.channel(), 0, dst);
            blocks(store, h, oid, 0, dst.duplicate().limit(dst.position()).position(start), entries);
        }
        return true;
    }

    /**
     * Reads whole blocks if every page of them is resident and they verify; false (nothing filled)
     * otherwise, and the caller's read on an I/O thread decides (also for a read that does not
     * start and end on a block boundary). The mapping only answers residency (mincore): the bytes
     * come with pread, since every page copied through a mapping stays in the node's RSS.
     */
    static boolean readCached(ChannelCache.Handle h, long offset, ByteBuffer dst) {
        MappedByteBuffer m = h.mapping();
        int n = dst.remaining();
        if (m == null || offset < 0 || ((offset | n) & (BLOCK - 1)) != 0 || offset + n > m.capacity()
                || !m.slice((int) offset, n).isLoaded()) {
            return false;
        }
        int start = dst.position();
        try {
            FileIo.readFully(h.channel(), offset, dst);
        } catch (IOException e) {
            dst.position(start);
            return false;
        }
        // verify the copy: what is checked is what is served
        if (!cached(h.table(), (int) offset, dst.duplicate().flip().position(start))) {
            dst.position(start);
            return false; // the I/O thread's read decides (it re-reads under the lock)
        }
        return true;
    }

    /**
     * Checks {@code data}, whole blocks read from {@code offset} (block aligned), against the table;
     * a block that still fails under the lock throws, one that passes is refreshed in place.
     */
    static void blocks(FileObjectStore store, ChannelCache.Handle h, long oid, long offset, ByteBuffer data)
            throws IOException {
        blocks(store, h, oid, offset, data, null);
    }

    /**
     * As above, and with {@code entries} not null, sets {@code entries[i]} to the entry block
     * {@code i} of {@code data} was verified against (its bytes' entry, whatever writes came since).
     */
    static void blocks(FileObjectStore store, ChannelCache.Handle h, long oid, long offset, ByteBuffer data, int[] entries)
            throws IOException {
        BlockTable t = h.table();
        int first = (int) (offset / BLOCK);
        int n = Checksums.blocks(data.remaining());
        for (int i = 0; i < n; i++) {
            int e = t.entry(first + i);
            if (!Checksums.blockMatches(data, i, e)) {
                ByteBuffer fresh = recheck(store, h, oid, first + i);
                int from = data.position() + i * BLOCK;
                data.put(from, fresh, 0, Math.min(BLOCK, data.limit() - from));
                e = Checksums.entry(fresh);
            }
            if (entries != null) {
                entries[i] = e;
            }
        }
    }

    /** Block {@code block} read again under the lock, or ChecksumException if it still fails. */
    private static ByteBuffer recheck(FileObjectStore store, ChannelCache.Handle h, long oid, int block)
            throws IOException {
        Lock held = store.lock(oid);
        held.lock();
        try {
            ByteBuffer b = readBlock(h.channel(), block);
            if (!Checksums.matches(b, h.table().entry(block))) {
                throw new ChecksumException(oid, block);
            }
            return b;
        } finally {
            held.unlock();
        }
    }

    /** Whether every block of {@code region} (from file offset {@code from}; the last may be short) verifies. */
    static boolean cached(BlockTable t, int from, ByteBuffer region) {
        int first = from / BLOCK;
        int n = Checksums.blocks(region.remaining());
        for (int i = 0; i < n; i++) {
            if (!Checksums.blockMatches(region, i, t.entry(first + i))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sets the entries of the blocks touched by {@code data}, pieces now written one after the
     * other from {@code offset}. A block inside one piece is checksummed from it; one that a piece
     * covers only in part (or that straddles two) is read back from the file. Under the lock.
     */
    static void update(ChannelCache.Handle h, long offset, ByteBuffer[] data) throws IOException {
        long end = offset;
        for (ByteBuffer d : data) {
            end += d.remaining();
        }
        if (end == offset) {
            return;
        }
        BlockTable t = h.table();
        int p = 0;
        long pStart = offset; // where piece p starts in the file
        for (long b = offset / BLOCK, last = (end - 1) / BLOCK; b <= last; b++) {
            long bs = b * BLOCK;
            while (p < data.length - 1 && pStart + data[p].remaining() <= Math.max(bs, offset)) {
                pStart += data[p].remaining();
                p++;
            }
            int entry;
            if (bs >= pStart && bs + BLOCK <= pStart + data[p].remaining()) {
                entry = Checksums.entry(data[p], data[p].position() + (int) (bs - pStart), BLOCK);
            } else if (bs >= offset && bs + BLOCK <= end) {
                // a whole block across pieces (socket reads end anywhere): no need to read it back
                entry = Checksums.spanningEntry(data, p, data[p].position() + (int) (bs - pStart));
            } else {
                entry = Checksums.entry(readBlock(h.channel(), (int) b));
            }
            t.setEntry((int) b, entry);
        }
    }

    /** Sets the entries of the blocks in [offset, end), just zeroed. Under the lock. */
    static void zeroed(ChannelCache.Handle h, long offset, long end) throws IOException {
        BlockTable t = h.table();
        for (long b = offset / BLOCK, last = (end - 1) / BLOCK; b <= last; b++) {
            long bs = b * BLOCK;
            boolean whole = bs >= offset && bs + BLOCK <= end;
            t.setEntry((int) b, whole ? 0 : Checksums.entry(readBlock(h.channel(), (int) b)));
        }
    }

    /** The object's version and digest, and with {@code verify} its bad blocks. */
    static ObjectStore.ObjectMeta stat(FileObjectStore store, ChannelCache.Handle h, long oid, boolean verify)
            throws IOException {
        long version;
        int digest;
        Lock held = store.lock(oid);
        held.lock();
        try {
            BlockTable t = h.table();
            version = t.version();
            digest = Checksums.digest(t::entry, t.capacity());
        } finally {
            held.unlock();
        }
        List<Integer> bad = verify ? object(store, h, oid) : List.of();
        return new ObjectStore.ObjectMeta(true, version, digest, bad);
    }

    /** Every block of the object that does not verify (table entries past the file's end included). */
    static List<Integer> object(FileObjectStore store, ChannelCache.Handle h, long oid) throws IOException {
        BlockTable t = h.table();
        int[] actual = entries(h.channel());
        List<Integer> suspects = new ArrayList<>();
        for (int b = 0; b < actual.length; b++) {
            if (actual[b] != t.entry(b)) {
                suspects.add(b);
            }
        }
        for (int b = actual.length, cap = t.capacity(); b < cap; b++) {
            if (t.entry(b) != 0) {
                suspects.add(b); // a block the table knows and the file lost
            }
        }
        List<Integer> bad = new ArrayList<>();
        for (int b : suspects) {
            try {
                recheck(store, h, oid, b);
            } catch (ChecksumException e) {
                bad.add(b);
            }
        }
        return bad;
    }

    /** Sets every entry from the bytes on the file: whatever is there is taken as good. Under the lock. */
    static void recompute(ChannelCache.Handle h) throws IOException {
        BlockTable t = h.table();
        int[] entries = entries(h.channel());
        for (int b = 0, n = Math.max(entries.length, t.capacity()); b < n; b++) {
            t.setEntry(b, b < entries.length ? entries[b] : 0);
        }
    }

    /** The entries of every block of a file. */
    static int[] entries(FileChannel ch) throws IOException {
        long size = ch.size();
        int[] e = new int[Checksums.blocks(size)];
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        for (long pos = 0; pos < size; pos += CHUNK) {
            buf.clear();
            FileIo.readFully(ch, pos, buf);
            buf.flip();
            int first = (int) (pos / BLOCK);
            int n = Checksums.blocks(Math.min(CHUNK, size - pos));
            for (int i = 0; i < n; i++) {
                e[first + i] = Checksums.blockEntry(buf, i);
            }
        }
        return e;
    }

    /** One whole block from the file, zeros past its end. */
    static ByteBuffer readBlock(FileChannel ch, int block) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(BLOCK);
        FileIo.readFully(ch, (long) block * BLOCK, b);
        return b.flip();
    }
}
