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
    private volatile boolean full;

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

    /** Every change fails as on a full disk (NO_SPACE, as the file store reports it); reads go on. */
    public FaultyStore full(boolean full) {
        this.full = full;
        return this;
    }

    private void checkSpace() {
        if (full) {
            throw new io.kelpie.common.KelpieException(io.kelpie.common.Status.NO_SPACE, "no space left on the node's disk");
        }
    }

    public FaultyStore heal() {
        full = false;
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
    public FileSlice readSlice(long oid, long offset, int length) throws IOException {
        if (failReads.test(oid)) {
            throw injected("read", oid);
        }
        return inner.readSlice(oid, offset, length);
    }

    @Override
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        checkSpace();
        if (failWrites.test(oid)) {
            throw injected("write", oid);
        }
        inner.write(oid, offset, src);
    }

    @Override
    public boolean tryWrite(long oid, long offset, ByteBuffer src) throws IOException {
        checkSpace();
        if (failWrites.test(oid)) {
            throw injected("write", oid);
        }
        return inner.tryWrite(oid, offset, src);
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
        checkSpace();
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
    public long version(long oid) throws IOException {
        return inner.version(oid);
    }

    @Override
    public long size(long oid) throws IOException {
        return inner.size(oid);
    }

    @Override
    public void create(long oid, long version) throws IOException {
        checkSpace();
        if (failWrites.test(oid)) {
            throw injected("create", oid);
        }
        inner.create(oid, version);
    }

    @Override
    public void install(long oid, long version, ByteBuffer content) throws IOException {
        checkSpace();
        if (failWrites.test(oid)) {
            throw injected("install", oid);
        }
        inner.install(oid, version, content);
    }

    @Override
    public ObjectMeta stat(long oid, boolean verify) throws IOException {
        if (verify && failReads.test(oid)) {
            throw injected("stat", oid);
        }
        return inner.stat(oid, verify);
    }

    @Override
    public void resetChecksums(long oid) throws IOException {
        if (failWrites.test(oid)) {
            throw injected("reset", oid);
        }
        inner.resetChecksums(oid);
    }

    @Override
    public boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        return !failReads.test(oid) && inner.tryReadCached(oid, offset, dst);
    }

    /** Flips the byte at {@code offset} of the object behind this store, as bit rot would. */
    public FaultyStore corrupt(long oid, long offset) throws IOException {
        corrupt(inner, oid, offset);
        return this;
    }

    /**
     * Flips the byte at {@code offset} of an object's content without its checksum knowing: in the
     * object file for a {@link FileObjectStore} (through the page cache, as a reader will see it),
     * in memory for a {@link MemoryObjectStore}.
     */
    public static void corrupt(ObjectStore store, long oid, long offset) throws IOException {
        if (store instanceof FaultyStore f) {
            corrupt(f.inner, oid, offset);
        } else if (store instanceof MemoryObjectStore m) {
            m.corrupt(oid, offset);
        } else if (store instanceof FileObjectStore f) {
            flipByte(f.pathOf(oid), offset);
        } else {
            throw new IllegalArgumentException("cannot corrupt a " + store.getClass().getSimpleName());
        }
    }

    /** Flips the byte at {@code offset} of a file (an object file of a node's data directory). */
    public static void flipByte(java.nio.file.Path file, long offset) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            if (ch.read(b, offset) != 1) {
                throw new IllegalArgumentException("no byte " + offset + " in " + file);
            }
            b.put(0, (byte) (b.get(0) ^ 0xff)).rewind();
            ch.write(b, offset);
        }
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
