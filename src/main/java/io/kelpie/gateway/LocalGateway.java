package io.kelpie.gateway;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.store.FileSlice;
import io.kelpie.store.ObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The gateway of a one-node cluster: every object lives in the local store, whatever its copies.
 * Blocking store calls run on {@code ioExecutor}, never on the caller's (event loop) thread.
 */
public final class LocalGateway implements LocalReplica {
    private final ObjectStore store;
    private final Executor ioExecutor;
    private final ByteBufAllocator alloc;

    public LocalGateway(ObjectStore store, Executor ioExecutor, ByteBufAllocator alloc) {
        this.store = store;
        this.ioExecutor = ioExecutor;
        this.alloc = alloc;
    }

    /**
     * Reads up to this size are served on the caller's thread when their bytes are in memory.
     * Larger ones go to the I/O threads: one connection's 1 MiB reads then use both cores instead
     * of queueing on its event loop (read1m qd8 +7-13% on two cores).
     */
    static final int CACHED_READ_MAX = Integer.getInteger("kelpie.cachedReadMax", 128 << 10);

    @Override
    public CompletableFuture<ByteBuf> read(long oid, int copies, long offset, int length) {
        if (length > 0 && length <= CACHED_READ_MAX) {
            // A page-cache hit costs a memcpy; handing it to an I/O thread and back costs two wakeups.
            ByteBuf buf = alloc.directBuffer(length, length);
            if (store.tryReadCached(oid, offset, buf.nioBuffer(0, length))) {
                return CompletableFuture.completedFuture(buf.writerIndex(length));
            }
            buf.release();
        }
        return supply(() -> readNow(store, alloc, oid, offset, length));
    }

    @Override
    public CompletableFuture<FileSlice> readSlice(long oid, int copies, long offset, int length) {
        return supply(() -> store.readSlice(oid, offset, length));
    }

    /** Writes up to this size are done on the caller's thread when the store can do them without waiting. */
    static final int INLINE_WRITE_MAX = Integer.getInteger("kelpie.inlineWriteMax", 64 << 10);

    @Override
    public CompletableFuture<Void> write(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        try {
            if (tryWriteNow(store, oid, offset, data, sync)) {
                return CompletableFuture.completedFuture(null);
            }
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(failure(e));
        }
        return run(() -> writeNow(store, oid, offset, data, sync, false));
    }

    /**
     * Does a small write without FUA on this thread if the store can do it without waiting, and
     * says whether it did; shared with the peer server. A page-cache write costs a memcpy and a
     * checksum, two thread hops cost more (qd1 writes).
     */
    public static boolean tryWriteNow(ObjectStore store, long oid, long offset, ByteBuf data, boolean sync)
            throws IOException {
        int n = data.readableBytes();
        return !sync && n > 0 && n <= INLINE_WRITE_MAX && data.nioBufferCount() == 1
                && store.tryWrite(oid, offset, data.nioBuffer(data.readerIndex(), n));
    }

    /** A create on a one-node cluster: there is no epoch, and so no stale orphan, to outrank. */
    @Override
    public CompletableFuture<Void> create(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        return createAt(oid, 0, offset, data, sync);
    }

    /** Creates the object afresh at {@code version} (a replica's create: epoch << 32), then writes {@code data}. */
    @Override
    public CompletableFuture<Void> createAt(long oid, long version, long offset, ByteBuf data, boolean sync) {
        return run(() -> createNow(store, oid, version, offset, data, sync));
    }

    @Override
    public CompletableFuture<Void> zero(long oid, int copies, long offset, long length, boolean sync) {
        return run(() -> {
            store.zero(oid, offset, length);
            if (sync) {
                store.sync(oid);
            }
        });
    }

    @Override
    public CompletableFuture<Void> remove(long oid, int copies) {
        return run(() -> store.remove(oid));
    }

    @Override
    public CompletableFuture<Void> flush() {
        return run(store::flush);
    }

    @Override
    public void close() {
    }

    /** Reads from a store into a fresh buffer from {@code alloc}; shared with the peer server. */
    public static ByteBuf readNow(ObjectStore store, ByteBufAllocator alloc, long oid, long offset, int length)
            throws IOException {
        ByteBuf buf = alloc.directBuffer(length, length);
        try {
            ByteBuffer nio = buf.nioBuffer(0, length);
            store.read(oid, offset, nio);
            buf.writerIndex(length);
            return buf;
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
    }

    /**
     * Replaces the object with an empty one at {@code version} and writes {@code data} into it
     * (so it ends at {@code version + 1}); shared with the peer server.
     */
    public static void createNow(ObjectStore store, long oid, long version, long offset, ByteBuf data, boolean sync)
            throws IOException {
        store.create(oid, version);
        try {
            writeNow(store, oid, offset, data, sync, false);
        } catch (KelpieException e) {
            if (e.status() == Status.NO_SPACE) {
                removeQuietly(store, oid); // the create did not happen: no empty object taking a file
            }
            throw e;
        }
    }

    private static void removeQuietly(ObjectStore store, long oid) {
        try {
            store.remove(oid);
        } catch (IOException | RuntimeException ignored) {
            // an empty object reads as zeros, and the next create of it replaces it
        }
    }

    /** Writes a buffer's readable bytes to a store without moving its reader index. */
    public static void writeNow(ObjectStore store, long oid, long offset, ByteBuf data, boolean sync, boolean create)
            throws IOException {
        if (create) {
            store.remove(oid);
        }
        int n = data.readableBytes();
        if (data.nioBufferCount() == 1) {
            store.write(oid, offset, data.nioBuffer(data.readerIndex(), n));
        } else {
            // One store write, one version, however the bytes arrived: replicas that applied the
            // same writes must agree on the count.
            store.write(oid, offset, data.nioBuffers(data.readerIndex(), n));
        }
        if (sync) {
            store.sync(oid);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private interface IoSupplier<T> {
        T get() throws IOException;
    }

    private CompletableFuture<Void> run(IoAction action) {
        return supply(() -> {
            action.run();
            return null;
        });
    }

    /** A store failure as the status the client gets; shared with the peer server. */
    public static KelpieException failure(Exception e) {
        if (e instanceof KelpieException k) {
            return k;
        }
        if (e instanceof io.kelpie.store.ChecksumException) {
            return new KelpieException(Status.CORRUPT, e.getMessage(), e);
        }
        return new KelpieException(Status.IO_ERROR, "I/O error: " + e.getMessage(), e);
    }

    private <T> CompletableFuture<T> supply(IoSupplier<T> action) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            ioExecutor.execute(() -> {
                try {
                    f.complete(action.get());
                } catch (IOException | RuntimeException e) {
                    f.completeExceptionally(failure(e));
                }
            });
        } catch (RuntimeException rejected) {
            f.completeExceptionally(new KelpieException(Status.SHUTDOWN, "node is shutting down"));
        }
        return f;
    }
}
