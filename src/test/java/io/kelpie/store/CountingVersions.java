package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A stand-in for the store contract's versions where the real store does not keep them yet: a
 * decorator that counts writes per object in a map the test keeps (so it survives a node's
 * restart in the same JVM). {@link #needed()} says whether FileObjectStore lacks real versions.
 */
public final class CountingVersions implements ObjectStore {
    private final ObjectStore inner;
    private final Map<Long, Long> versions;

    public CountingVersions(ObjectStore inner, Map<Long, Long> versions) {
        this.inner = inner;
        this.versions = versions;
    }

    /** True when FileObjectStore's versions are the contract's defaults (every object version 1). */
    public static boolean needed() {
        try {
            Path dir = Files.createTempDirectory("kelpie-version-probe");
            try (FileObjectStore s = new FileObjectStore(dir)) {
                s.write(1, 0, ByteBuffer.wrap(new byte[] {1}));
                s.write(1, 0, ByteBuffer.wrap(new byte[] {2}));
                boolean real = s.version(1) == 2;
                s.remove(1);
                return !real;
            } finally {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        return inner.read(oid, offset, dst);
    }

    @Override
    public boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        return inner.tryReadCached(oid, offset, dst);
    }

    @Override
    public synchronized void write(long oid, long offset, ByteBuffer src) throws IOException {
        long v = version(oid);
        inner.write(oid, offset, src);
        versions.put(oid, v + 1);
    }

    @Override
    public void sync(long oid) throws IOException {
        inner.sync(oid);
    }

    @Override
    public void flush() throws IOException {
        inner.flush();
    }

    @Override
    public synchronized void zero(long oid, long offset, long length) throws IOException {
        long v = version(oid);
        inner.zero(oid, offset, length);
        if (v > 0) {
            versions.put(oid, v + 1);
        }
    }

    @Override
    public synchronized boolean remove(long oid) throws IOException {
        versions.remove(oid);
        return inner.remove(oid);
    }

    @Override
    public boolean exists(long oid) throws IOException {
        return inner.exists(oid);
    }

    @Override
    public List<Long> list() throws IOException {
        return inner.list();
    }

    @Override
    public StoreStats stats() throws IOException {
        return inner.stats();
    }

    @Override
    public synchronized long version(long oid) throws IOException {
        return inner.exists(oid) ? versions.getOrDefault(oid, 1L) : 0;
    }

    @Override
    public synchronized void create(long oid, long version) throws IOException {
        inner.remove(oid);
        inner.write(oid, 0, ByteBuffer.allocate(1));
        versions.put(oid, version);
    }

    @Override
    public synchronized void install(long oid, long version, ByteBuffer content) throws IOException {
        inner.install(oid, version, content);
        versions.put(oid, version);
    }

    @Override
    public synchronized ObjectMeta stat(long oid, boolean verify) throws IOException {
        long v = version(oid);
        return new ObjectMeta(v > 0, v, 0, List.of());
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
