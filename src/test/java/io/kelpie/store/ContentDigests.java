package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Tests: a decorator whose {@link #stat} digests the object's bytes (crc32c of the first
 * {@code size} bytes) where the store under it reports no digest (0) yet, so that a flipped byte
 * shows as a copy with the same version but another digest. A real digest from below wins.
 */
public final class ContentDigests implements ObjectStore {
    private final ObjectStore inner;
    private final int size;

    public ContentDigests(ObjectStore inner, int size) {
        this.inner = inner;
        this.size = size;
    }

    @Override
    public ObjectMeta stat(long oid, boolean verify) throws IOException {
        ObjectMeta m = inner.stat(oid, verify);
        if (!m.exists() || m.digest() != 0) {
            return m;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        inner.read(oid, 0, b);
        CRC32C crc = new CRC32C();
        crc.update(b.flip());
        return new ObjectMeta(true, m.version(), (int) crc.getValue(), m.badBlocks());
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
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        inner.write(oid, offset, src);
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
    public void zero(long oid, long offset, long length) throws IOException {
        inner.zero(oid, offset, length);
    }

    @Override
    public boolean remove(long oid) throws IOException {
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
    public long version(long oid) throws IOException {
        return inner.version(oid);
    }

    @Override
    public void create(long oid, long version) throws IOException {
        inner.create(oid, version);
    }

    @Override
    public void install(long oid, long version, ByteBuffer content) throws IOException {
        inner.install(oid, version, content);
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
