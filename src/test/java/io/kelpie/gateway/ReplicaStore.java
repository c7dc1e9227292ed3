package io.kelpie.gateway;

import io.kelpie.store.ChecksumException;
import io.kelpie.store.ObjectStore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One replica's objects in memory, with versions as the store contract defines them (create sets
 * a base, each write or zero adds one) and faults to inject: a checksum failure on read, I/O errors
 * on read or write. Counts reads, so a test can tell whether a replica was asked.
 */
final class ReplicaStore implements ObjectStore {
    private final Map<Long, byte[]> objects = new ConcurrentHashMap<>();
    private final Map<Long, Long> versions = new ConcurrentHashMap<>();
    final Set<Long> corrupt = ConcurrentHashMap.newKeySet();
    final Set<Long> failReads = ConcurrentHashMap.newKeySet();
    final Set<Long> failWrites = ConcurrentHashMap.newKeySet();
    final AtomicInteger reads = new AtomicInteger();

    @Override
    public synchronized void install(long oid, long version, ByteBuffer content) {
        byte[] b = new byte[4 << 20];
        content.duplicate().get(b, 0, content.remaining());
        objects.put(oid, b);
        versions.put(oid, version);
        corrupt.remove(oid);
    }

    @Override
    public ObjectMeta stat(long oid, boolean verify) {
        return objects.containsKey(oid)
                ? new ObjectMeta(true, version(oid), java.util.Arrays.hashCode(objects.get(oid)),
                        verify && corrupt.contains(oid) ? List.of(0) : List.of())
                : ObjectMeta.ABSENT;
    }

    @Override
    public void resetChecksums(long oid) {
        corrupt.remove(oid);
    }

    @Override
    public long size(long oid) {
        byte[] data = objects.get(oid);
        return data == null ? 0 : data.length;
    }

    @Override
    public synchronized boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        reads.incrementAndGet();
        if (corrupt.contains(oid)) {
            throw new ChecksumException(oid, (int) (offset / BLOCK_SIZE));
        }
        if (failReads.contains(oid)) {
            throw new IOException("injected read error on object " + Long.toHexString(oid));
        }
        byte[] data = objects.get(oid);
        int n = dst.remaining();
        for (int i = 0; i < n; i++) {
            long at = offset + i;
            dst.put(data != null && at < data.length ? data[(int) at] : 0);
        }
        return data != null;
    }

    @Override
    public synchronized void write(long oid, long offset, ByteBuffer src) throws IOException {
        if (failWrites.contains(oid)) {
            throw new IOException("injected write error on object " + Long.toHexString(oid));
        }
        byte[] data = objects.getOrDefault(oid, new byte[0]);
        long end = offset + src.remaining();
        if (data.length < end) {
            data = Arrays.copyOf(data, (int) end);
        }
        src.get(data, (int) offset, src.remaining());
        objects.put(oid, data);
        versions.merge(oid, 1L, Long::sum);
    }

    @Override
    public synchronized void zero(long oid, long offset, long length) throws IOException {
        if (failWrites.contains(oid)) {
            throw new IOException("injected write error on object " + Long.toHexString(oid));
        }
        byte[] data = objects.get(oid);
        if (data != null) {
            Arrays.fill(data, (int) Math.min(offset, data.length), (int) Math.min(offset + length, data.length), (byte) 0);
            versions.merge(oid, 1L, Long::sum);
        }
    }

    @Override
    public synchronized void create(long oid, long version) throws IOException {
        if (failWrites.contains(oid)) {
            throw new IOException("injected write error on object " + Long.toHexString(oid));
        }
        objects.put(oid, new byte[0]);
        versions.put(oid, version);
    }

    /** What a repair does: the other replica's content and version. */
    synchronized void copyFrom(ReplicaStore other, long oid) {
        synchronized (other) {
            objects.put(oid, other.objects.get(oid).clone());
            versions.put(oid, other.versions.get(oid));
        }
    }

    /** Bytes of the object ({@code length} of them from {@code offset}, zeros past its end). */
    synchronized byte[] bytes(long oid, long offset, int length) {
        byte[] data = objects.getOrDefault(oid, new byte[0]);
        byte[] out = new byte[length];
        for (int i = 0; i < length && offset + i < data.length; i++) {
            out[i] = data[(int) offset + i];
        }
        return out;
    }

    @Override
    public long version(long oid) {
        return versions.getOrDefault(oid, 0L);
    }

    @Override
    public void sync(long oid) {
    }

    @Override
    public void flush() {
    }

    @Override
    public synchronized boolean remove(long oid) {
        versions.remove(oid);
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

    @Override
    public StoreStats stats() {
        return new StoreStats(0, Long.MAX_VALUE, objects.size());
    }

    @Override
    public void close() {
    }
}
