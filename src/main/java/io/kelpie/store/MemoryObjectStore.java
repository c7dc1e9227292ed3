package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-memory twin of {@link FileObjectStore}, for fast deterministic tests: the same versions,
 * the same per-block checksum rules (so equal content has the same digest in either store), and
 * {@link #corrupt} to make a block fail like rot on a disk.
 */
public final class MemoryObjectStore implements ObjectStore {
    private static final int BLOCK = BLOCK_SIZE;
    private final Map<Long, Obj> objects = new ConcurrentHashMap<>();
    private final long capacity;

    /** One object: its bytes (as long as they were ever written), version and block entries. */
    private static final class Obj {
        byte[] data = new byte[0];
        int[] entries = new int[0];
        long version;

        Obj(long version) {
            this.version = version;
        }

        void refresh(long from, long to) {
            if (to <= from) {
                return;
            }
            int last = (int) ((to - 1) / BLOCK);
            if (entries.length <= last) {
                entries = Arrays.copyOf(entries, last + 1);
            }
            for (int b = (int) (from / BLOCK); b <= last; b++) {
                entries[b] = Checksums.entry(block(b));
            }
        }

        ByteBuffer block(int b) {
            int from = Math.min(data.length, b * BLOCK);
            return ByteBuffer.wrap(data, from, Math.min(data.length, from + BLOCK) - from);
        }

        int entry(int b) {
            return b < entries.length ? entries[b] : 0;
        }
    }

    public MemoryObjectStore() {
        this(Long.MAX_VALUE);
    }

    public MemoryObjectStore(long capacity) {
        this.capacity = capacity;
    }

    @Override
    public synchronized boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        Obj o = objects.get(oid);
        int n = dst.remaining();
        if (o == null) {
            dst.put(new byte[n]);
            return false;
        }
        if (n > 0) {
            for (long b = offset / BLOCK, last = (offset + n - 1) / BLOCK; b <= last; b++) {
                if (!Checksums.matches(o.block((int) b), o.entry((int) b))) {
                    throw new ChecksumException(oid, (int) b);
                }
            }
        }
        byte[] data = o.data;
        int have = (int) Math.max(0, Math.min(n, data.length - offset));
        if (have > 0) {
            dst.put(data, (int) offset, have);
        }
        dst.put(new byte[n - have]);
        return true;
    }

    @Override
    public synchronized void write(long oid, long offset, ByteBuffer src) throws IOException {
        int n = src.remaining();
        Obj o = objects.get(oid);
        long end = offset + n;
        if (o == null || o.data.length < end) {
            long grow = end - (o == null ? 0 : o.data.length);
            if (used() + grow > capacity) {
                throw new IOException("No space left on device");
            }
            if (o == null) {
                o = new Obj(0);
                objects.put(oid, o);
            }
            o.data = Arrays.copyOf(o.data, (int) end);
        }
        src.get(o.data, (int) offset, n);
        o.refresh(offset, end);
        o.version++;
    }

    @Override
    public void sync(long oid) {
    }

    @Override
    public void flush() {
    }

    @Override
    public synchronized void zero(long oid, long offset, long length) {
        Obj o = objects.get(oid);
        if (o == null) {
            return;
        }
        if (offset < o.data.length) {
            int end = (int) Math.min(o.data.length, offset + length);
            Arrays.fill(o.data, (int) offset, end, (byte) 0);
            o.refresh(offset, end);
        }
        o.version++;
    }

    @Override
    public synchronized boolean remove(long oid) {
        return objects.remove(oid) != null;
    }

    @Override
    public boolean exists(long oid) {
        return objects.containsKey(oid);
    }

    @Override
    public List<Long> list() {
        return new ArrayList<>(objects.keySet());
    }

    private long used() {
        long used = 0;
        for (Obj o : objects.values()) {
            used += o.data.length;
        }
        return used;
    }

    @Override
    public synchronized StoreStats stats() {
        long used = used();
        return new StoreStats(used, capacity == Long.MAX_VALUE ? Long.MAX_VALUE - used : capacity - used, objects.size());
    }

    @Override
    public synchronized long version(long oid) {
        Obj o = objects.get(oid);
        return o == null ? 0 : o.version;
    }

    @Override
    public synchronized long size(long oid) {
        Obj o = objects.get(oid);
        return o == null ? 0 : o.data.length;
    }

    @Override
    public synchronized void create(long oid, long version) {
        objects.put(oid, new Obj(version));
    }

    @Override
    public synchronized void install(long oid, long version, ByteBuffer content) {
        Obj o = new Obj(version);
        o.data = new byte[content.remaining()];
        content.duplicate().get(o.data);
        o.refresh(0, o.data.length);
        objects.put(oid, o);
    }

    @Override
    public synchronized ObjectMeta stat(long oid, boolean verify) {
        Obj o = objects.get(oid);
        if (o == null) {
            return ObjectMeta.ABSENT;
        }
        List<Integer> bad = new ArrayList<>();
        if (verify) {
            for (int b = 0, n = Math.max(o.entries.length, Checksums.blocks(o.data.length)); b < n; b++) {
                if (!Checksums.matches(o.block(b), o.entry(b))) {
                    bad.add(b);
                }
            }
        }
        return new ObjectMeta(true, o.version, Checksums.digest(o::entry, o.entries.length), bad);
    }

    @Override
    public synchronized void resetChecksums(long oid) {
        Obj o = objects.get(oid);
        if (o != null) {
            o.entries = new int[0];
            o.refresh(0, o.data.length);
        }
    }

    /** Flips the bits of the byte at {@code offset} without touching its checksum, as rot would. */
    public synchronized void corrupt(long oid, long offset) {
        Obj o = objects.get(oid);
        if (o == null || offset >= o.data.length) {
            throw new IllegalArgumentException("no byte " + offset + " in object " + Long.toHexString(oid));
        }
        o.data[(int) offset] ^= (byte) 0xff;
    }

    @Override
    public void close() {
    }
}
