package io.kelpie.store;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The in-memory twin of {@link FileObjectStore}, for fast deterministic tests. */
public final class MemoryObjectStore implements ObjectStore {
    private final Map<Long, byte[]> objects = new ConcurrentHashMap<>();
    private final long capacity;

    public MemoryObjectStore() {
        this(Long.MAX_VALUE);
    }

    public MemoryObjectStore(long capacity) {
        this.capacity = capacity;
    }

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) {
        byte[] data = objects.get(oid);
        int n = dst.remaining();
        synchronized (this) {
            int have = data == null ? 0 : (int) Math.max(0, Math.min(n, data.length - offset));
            if (have > 0) {
                dst.put(data, (int) offset, have);
            }
            for (int i = have; i < n; i++) {
                dst.put((byte) 0);
            }
        }
        return data != null;
    }

    @Override
    public synchronized void write(long oid, long offset, ByteBuffer src) throws java.io.IOException {
        int n = src.remaining();
        byte[] data = objects.get(oid);
        long end = offset + n;
        if (data == null || data.length < end) {
            long grow = end - (data == null ? 0 : data.length);
            if (used() + grow > capacity) {
                throw new java.io.IOException("No space left on device");
            }
            byte[] bigger = new byte[(int) end];
            if (data != null) {
                System.arraycopy(data, 0, bigger, 0, data.length);
            }
            data = bigger;
            objects.put(oid, data);
        }
        src.get(data, (int) offset, n);
    }

    @Override
    public void sync(long oid) {
    }

    @Override
    public void flush() {
    }

    @Override
    public synchronized void zero(long oid, long offset, long length) {
        byte[] data = objects.get(oid);
        if (data != null && offset < data.length) {
            java.util.Arrays.fill(data, (int) offset, (int) Math.min(data.length, offset + length), (byte) 0);
        }
    }

    @Override
    public boolean remove(long oid) {
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
        for (byte[] b : objects.values()) {
            used += b.length;
        }
        return used;
    }

    @Override
    public synchronized StoreStats stats() {
        long used = used();
        return new StoreStats(used, capacity == Long.MAX_VALUE ? Long.MAX_VALUE - used : capacity - used, objects.size());
    }

    @Override
    public void close() {
    }
}
