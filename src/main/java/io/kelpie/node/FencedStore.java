package io.kelpie.node;

import io.kelpie.store.FileSlice;
import io.kelpie.store.ObjectStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The node's store with a fence for {@code cluster format}: the format is applied on the ordered
 * cluster thread, which must not spend the time removing every object, so {@link #wipe} only raises
 * the fence and removes them on a thread of its own. Calls that started before the fence finish
 * before the first removal; calls made after it wait until the last one (they belong to the new
 * cluster: a VDI created right after the format must not lose its inode to the wipe).
 */
final class FencedStore implements ObjectStore {
    private static final Logger log = LoggerFactory.getLogger(FencedStore.class);

    private interface Call<T> {
        T run() throws IOException;
    }

    private interface VoidCall {
        void run() throws IOException;
    }

    private final ObjectStore inner;
    /** Store calls hold it shared; a wipe holds it exclusively. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final ExecutorService wiper = Executors.newSingleThreadExecutor(Threads.named("kelpie-format-wipe"));
    private volatile CompletableFuture<Void> wiped = CompletableFuture.completedFuture(null);

    FencedStore(ObjectStore inner) {
        this.inner = inner;
    }

    /**
     * Raises the fence now and removes every object behind it; never blocks. The future completes
     * once the store is empty and open again (also when a removal failed: that is logged, and a
     * failing store is the health check's to handle).
     */
    CompletableFuture<Void> wipe() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        wiped = done;
        wiper.execute(() -> {
            long start = System.nanoTime();
            int removed = 0;
            lock.writeLock().lock();
            try {
                for (long oid : inner.list()) {
                    if (inner.remove(oid)) {
                        removed++;
                    }
                }
                log.info("format: removed {} local object(s) of the old cluster in {} ms", removed,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            } catch (IOException | RuntimeException e) {
                log.error("format: removing the local objects failed after {}: {}", removed, e.toString());
            } finally {
                lock.writeLock().unlock();
                done.complete(null);
            }
        });
        return done;
    }

    private <T> T fenced(Call<T> call) throws IOException {
        CompletableFuture<Void> f = wiped;
        if (!f.isDone()) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while the store is wiped for a format");
            } catch (ExecutionException e) {
                throw new IllegalStateException(e); // never: the wipe always completes normally
            }
        }
        lock.readLock().lock();
        try {
            return call.run();
        } finally {
            lock.readLock().unlock();
        }
    }

    private void fencedRun(VoidCall call) throws IOException {
        fenced(() -> {
            call.run();
            return null;
        });
    }

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        return fenced(() -> inner.read(oid, offset, dst));
    }

    @Override
    public FileSlice readSlice(long oid, long offset, int length) throws IOException {
        return fenced(() -> inner.readSlice(oid, offset, length));
    }

    /** Never waits (it may run on an event loop): behind the fence it is a miss, and the caller reads on an I/O thread. */
    @Override
    public boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        if (!wiped.isDone() || !lock.readLock().tryLock()) {
            return false;
        }
        try {
            return inner.tryReadCached(oid, offset, dst);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Never waits, as {@link #tryReadCached}. */
    @Override
    public boolean tryWrite(long oid, long offset, ByteBuffer src) throws IOException {
        if (!wiped.isDone() || !lock.readLock().tryLock()) {
            return false;
        }
        try {
            return inner.tryWrite(oid, offset, src);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        fencedRun(() -> inner.write(oid, offset, src));
    }

    @Override
    public void write(long oid, long offset, ByteBuffer[] srcs) throws IOException {
        fencedRun(() -> inner.write(oid, offset, srcs));
    }

    @Override
    public void sync(long oid) throws IOException {
        fencedRun(() -> inner.sync(oid));
    }

    @Override
    public void flush() throws IOException {
        fencedRun(() -> inner.flush());
    }

    @Override
    public void zero(long oid, long offset, long length) throws IOException {
        fencedRun(() -> inner.zero(oid, offset, length));
    }

    @Override
    public boolean remove(long oid) throws IOException {
        return fenced(() -> inner.remove(oid));
    }

    @Override
    public boolean exists(long oid) throws IOException {
        return fenced(() -> inner.exists(oid));
    }

    @Override
    public List<Long> list() throws IOException {
        return fenced(inner::list);
    }

    @Override
    public StoreStats stats() throws IOException {
        return fenced(inner::stats);
    }

    @Override
    public long version(long oid) throws IOException {
        return fenced(() -> inner.version(oid));
    }

    @Override
    public void create(long oid, long version) throws IOException {
        fencedRun(() -> inner.create(oid, version));
    }

    @Override
    public void install(long oid, long version, ByteBuffer content) throws IOException {
        fencedRun(() -> inner.install(oid, version, content));
    }

    @Override
    public void installPacked(long oid, long version, int length, int[] entries, ByteBuffer packed) throws IOException {
        fencedRun(() -> inner.installPacked(oid, version, length, entries, packed));
    }

    @Override
    public boolean readWithEntries(long oid, ByteBuffer dst, int[] entries) throws IOException {
        return fenced(() -> inner.readWithEntries(oid, dst, entries));
    }

    @Override
    public ObjectMeta stat(long oid, boolean verify) throws IOException {
        return fenced(() -> inner.stat(oid, verify));
    }

    @Override
    public void resetChecksums(long oid) throws IOException {
        fencedRun(() -> inner.resetChecksums(oid));
    }

    @Override
    public long size(long oid) throws IOException {
        return fenced(() -> inner.size(oid));
    }

    /** A wipe under way is finished first: the node must not restart with half an old cluster's objects. */
    @Override
    public void close() throws IOException {
        wiper.shutdown();
        try {
            if (!wiper.awaitTermination(60, TimeUnit.SECONDS)) {
                log.warn("format: the wipe of the local objects did not finish within 60 s; closing the store anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        inner.close();
    }
}
