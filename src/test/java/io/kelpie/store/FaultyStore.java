package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * A decorator that fails chosen operations, like nbdkit's error filter: tests use it to check that
 * an I/O error reaches the client intact and leaves nothing half done.
 */
public final class FaultyStore implements ObjectStore {
    private final ObjectStore inner;
    private volatile LongPredicate failReads = oid -> false;
    private volatile LongPredicate failWrites = oid -> false;
    private volatile boolean failFlush;

    public FaultyStore(ObjectStore inner) {
        this.inner = inner;
    }

    public FaultyStore failReads(LongPredicate which) {
        this.failReads = which;
        return this;
    }

    public FaultyStore failWrites(LongPredicate which) {
        this.failWrites = which;
        return this;
    }

    public FaultyStore failFlush(boolean fail) {
        this.failFlush = fail;
        return this;
    }

    public FaultyStore heal() {
        failReads = oid -> false;
        failWrites = oid -> false;
        failFlush = false;
        return this;
    }

    private static IOException injected(String op, long oid) {
        return new IOException("injected " + op + " failure on object " + Long.toHexString(oid));
    }

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        if (failReads.test(oid)) {
            throw injected("read", oid);
        }
        return inner.read(oid, offset, dst);
    }

    @Override
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        if (failWrites.test(oid)) {
            throw injected("write", oid);
        }
        inner.write(oid, offset, src);
    }

    @Override
    public void sync(long oid) throws IOException {
        inner.sync(oid);
    }

    @Override
    public void flush() throws IOException {
        if (failFlush) {
            throw injected("flush", 0);
        }
        inner.flush();
    }

    @Override
    public void zero(long oid, long offset, long length) throws IOException {
        if (failWrites.test(oid)) {
            throw injected("zero", oid);
        }
        inner.zero(oid, offset, length);
    }

    @Override
    public boolean remove(long oid) throws IOException {
        if (failWrites.test(oid)) {
            throw injected("remove", oid);
        }
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
    public void close() throws IOException {
        inner.close();
    }
}
