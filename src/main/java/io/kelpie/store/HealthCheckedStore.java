package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The node's policy for a store that returns I/O errors (checksum failures are not I/O errors:
 * they are the copy's fault, not the disk's, and pass through untouched). Two levels:
 *
 * <ul>
 * <li><b>One object.</b> A failed write, zero, sync, create or install disables the object at
 *     once (the copy's content is unknown now); {@link #READ_ERRORS} failed reads in a row do too.
 *     A disabled object answers every read and change with an I/O error without touching the
 *     disk, so clients are served by the other replicas; its {@link #stat} reports it as failing
 *     verification, so recovery, repair and check never copy from it and repair replaces it. A
 *     successful install (repair) or remove enables it again.</li>
 * <li><b>The whole store.</b> After any I/O error, and every {@link #PROBE_MILLIS} anyway, a probe
 *     creates, writes, fsyncs and deletes a file in the store's directory. Two failed probes in a
 *     row, or {@link #STORE_ERRORS} failed operations in a row with no success between them, mean
 *     the disk is gone (read-only, removed, failing): the store fails every operation from then
 *     on and tells {@code onFailure} once; the node leaves the cluster so the others recover its
 *     objects. The periodic probe matters: a directory removed under open files, or a file system
 *     remounted read-only after a journal abort, may fail no operation until much later.</li>
 * </ul>
 *
 * <p>A full disk is not a failed one: a change that ran out of space (ENOSPC, translated to
 * {@code NO_SPACE} by the store, which leaves the object whole) disables nothing and counts
 * toward nothing, and a probe that runs out of space passes (the disk answered). The node stays
 * up, serves reads, and takes writes again as soon as space is freed; {@link FullDisk} logs the turns.
 */
public final class HealthCheckedStore implements ObjectStore {
    private static final Logger log = LoggerFactory.getLogger(HealthCheckedStore.class);
    public static final int READ_ERRORS = 3;
    public static final int STORE_ERRORS = 16;
    public static final long PROBE_MILLIS = 1000;
    static final String PROBE = ".kelpie-probe";

    private final ObjectStore inner;
    private final Path dir;
    private final Consumer<String> onFailure;
    private final Map<Long, String> disabled = new ConcurrentHashMap<>();
    private final Map<Long, Integer> readErrors = new ConcurrentHashMap<>();
    private final AtomicInteger errorsInARow = new AtomicInteger();
    private final AtomicInteger probeFailures = new AtomicInteger();
    private final AtomicBoolean probing = new AtomicBoolean();
    private final ScheduledExecutorService prober;
    private volatile String failed;
    private final FullDisk space;
    private volatile long lastErrorProbe = System.nanoTime() - ERROR_PROBE_GAP_NANOS - 1;
    private static final long ERROR_PROBE_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /**
     * @param dir       the store's directory (the probe's file goes there: the same file system)
     * @param onFailure called once, with a one-line reason, when the whole store has failed
     */
    public HealthCheckedStore(ObjectStore inner, Path dir, Consumer<String> onFailure) {
        this(inner, dir, onFailure, PROBE_MILLIS);
    }

    /** Tests: {@code probeMillis} 0 probes only after errors, and the first probe that writes ends a full disk. */
    public HealthCheckedStore(ObjectStore inner, Path dir, Consumer<String> onFailure, long probeMillis) {
        this.inner = inner;
        this.dir = dir;
        this.onFailure = onFailure;
        this.space = new FullDisk(dir, probeMillis > 0 ? FullDisk.CALM_MILLIS : 0);
        if (probeMillis > 0) {
            prober = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "kelpie-store-probe");
                t.setDaemon(true);
                return t;
            });
            prober.scheduleWithFixedDelay(this::probe, probeMillis, probeMillis, TimeUnit.MILLISECONDS);
        } else {
            prober = null;
        }
    }

    /** Null while the store works, else why it failed as a whole. */
    public String failure() {
        return failed;
    }

    /** Whether the object is disabled after I/O errors on it. */
    public boolean disabled(long oid) {
        return disabled.containsKey(oid);
    }

    private interface Op<T> {
        T run() throws IOException;
    }

    /** INSTALL: a REPLACE by recovery or repair, which means to replace a copy that is behind or bad. */
    private enum Kind { READ, CHANGE, REPLACE, INSTALL, OTHER }

    private <T> T guarded(long oid, Kind kind, Op<T> op) throws IOException {
        String f = failed;
        if (f != null) {
            throw new IOException("the object store has failed: " + f);
        }
        // Versions and presence still pass: LIST_VERSIONS must not fail for one bad object.
        String why = kind == Kind.READ || kind == Kind.CHANGE ? disabled.get(oid) : null;
        if (why != null) {
            throw new IOException("object " + String.format("%016x", oid) + " is disabled on this node after I/O errors (" + why + ")");
        }
        try {
            T v = op.run();
            errorsInARow.set(0);
            if (oid != -1) {
                if (!readErrors.isEmpty()) { // no boxing on the hot path
                    readErrors.remove(oid);
                }
                if ((kind == Kind.REPLACE || kind == Kind.INSTALL) && disabled.remove(oid) != null) {
                    log.info("object {} is enabled again: replaced with a good copy", String.format("%016x", oid));
                }
            }
            return v;
        } catch (ChecksumException e) {
            throw e; // the copy's fault, not the disk's: repair handles it
        } catch (KelpieException e) {
            if (e.status() == Status.NO_SPACE) {
                space.ranOut(e.getMessage());
                if (kind == Kind.INSTALL) {
                    behind(oid);
                }
            }
            throw e;
        } catch (IOException e) {
            failedOp(oid, kind, e);
            throw e;
        }
    }

    /**
     * A copy that recovery or repair could not replace for want of space is behind (it missed a
     * write the others have, is bad, or is missing: a create that ran out leaves none): it serves
     * nothing until a later repair replaces it, so no client reads stale bytes (or zeros) from it.
     * The full disk itself is logged once, by {@link FullDisk}.
     */
    private void behind(long oid) {
        if (disabled.putIfAbsent(oid, "not brought up to date: no space") == null) {
            log.debug("object {}: its repair found no space; disabled here until repaired", String.format("%016x", oid));
        }
    }

    private void failedOp(long oid, Kind kind, IOException e) {
        if (oid != -1) {
            boolean disable = kind != Kind.READ || readErrors.merge(oid, 1, Integer::sum) >= READ_ERRORS;
            if (disable && disabled.putIfAbsent(oid, e.getMessage() == null ? e.toString() : e.getMessage()) == null) {
                log.error("object {}: I/O error ({}); disabled here, served by the other replicas until repaired",
                        String.format("%016x", oid), e.getMessage());
            }
        }
        if (NoSpace.is(e)) {
            space.ranOut(e.getMessage()); // untranslated (a sync): the object's copy is in doubt, the disk is not
        } else if (errorsInARow.incrementAndGet() >= STORE_ERRORS) {
            fail(STORE_ERRORS + " store operations failed in a row, the last: " + e.getMessage());
        } else if (System.nanoTime() - lastErrorProbe > ERROR_PROBE_GAP_NANOS) {
            // At most one probe per burst of errors on the failing thread; the periodic one follows up.
            lastErrorProbe = System.nanoTime();
            probe();
        }
    }

    /** Creates, writes, fsyncs and deletes a file next to the objects; two failures in a row fail the store. */
    void probe() {
        if (failed != null || !probing.compareAndSet(false, true)) {
            return;
        }
        try {
            Path p = dir.resolve(PROBE);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(new byte[] {'k'}));
                ch.force(true);
            }
            Files.delete(p);
            probeFailures.set(0);
            if (!(inner instanceof FileObjectStore f) || f.reserve.roomForData()) {
                space.probeWrote(); // a new block could be had (past the reserve): the next write may well succeed
            }
        } catch (IOException | RuntimeException e) {
            if (NoSpace.is(e)) {
                probeFailures.set(0); // the disk answered: it is full, not failing
                space.ranOut(e.getMessage());
                FileIo.deleteQuietly(dir.resolve(PROBE)); // else the next probe truncates it
            } else if (probeFailures.incrementAndGet() >= 2) {
                fail("the data directory " + dir + " fails: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            } else {
                log.warn("store probe in {} failed, trying again: {}", dir, e.toString());
            }
        } finally {
            probing.set(false);
        }
    }

    /** Whether a change ran out of space and no probe could write since ({@link FullDisk}). */
    public boolean full() {
        return space.full();
    }

    private void fail(String reason) {
        synchronized (this) {
            if (failed != null) {
                return;
            }
            failed = reason;
        }
        log.error("object store failed: {}", reason);
        if (prober != null) {
            prober.shutdown();
        }
        try {
            onFailure.accept(reason);
        } catch (RuntimeException e) {
            log.error("handling the store failure failed: {}", e.toString());
        }
    }

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        return guarded(oid, Kind.READ, () -> inner.read(oid, offset, dst));
    }

    @Override
    public boolean readWithEntries(long oid, ByteBuffer dst, int[] entries) throws IOException {
        return guarded(oid, Kind.READ, () -> inner.readWithEntries(oid, dst, entries));
    }

    @Override
    public FileSlice readSlice(long oid, long offset, int length) throws IOException {
        return guarded(oid, Kind.READ, () -> inner.readSlice(oid, offset, length));
    }

    @Override
    public boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        // Disabled objects and a failed store go the slow way, where they fail properly.
        return failed == null && !disabled.containsKey(oid) && inner.tryReadCached(oid, offset, dst);
    }

    @Override
    public boolean tryWrite(long oid, long offset, ByteBuffer src) throws IOException {
        // Disabled objects and a failed store go the slow way, where they fail properly.
        return failed == null && !disabled.containsKey(oid)
                && guarded(oid, Kind.CHANGE, () -> inner.tryWrite(oid, offset, src));
    }

    @Override
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        guarded(oid, Kind.CHANGE, () -> {
            inner.write(oid, offset, src);
            return null;
        });
    }

    @Override
    public void write(long oid, long offset, ByteBuffer[] srcs) throws IOException {
        guarded(oid, Kind.CHANGE, () -> {
            inner.write(oid, offset, srcs);
            return null;
        });
    }

    @Override
    public void sync(long oid) throws IOException {
        guarded(oid, Kind.CHANGE, () -> {
            inner.sync(oid);
            return null;
        });
    }

    @Override
    public void flush() throws IOException {
        guarded(-1, Kind.OTHER, () -> {
            inner.flush();
            return null;
        });
    }

    @Override
    public void zero(long oid, long offset, long length) throws IOException {
        guarded(oid, Kind.CHANGE, () -> {
            inner.zero(oid, offset, length);
            return null;
        });
    }

    @Override
    public boolean remove(long oid) throws IOException {
        return guarded(oid, Kind.REPLACE, () -> inner.remove(oid));
    }

    @Override
    public boolean exists(long oid) throws IOException {
        return guarded(oid, Kind.OTHER, () -> inner.exists(oid));
    }

    @Override
    public List<Long> list() throws IOException {
        return guarded(-1, Kind.OTHER, inner::list);
    }

    @Override
    public StoreStats stats() throws IOException {
        return guarded(-1, Kind.OTHER, inner::stats);
    }

    @Override
    public long version(long oid) throws IOException {
        return guarded(oid, Kind.OTHER, () -> inner.version(oid));
    }

    @Override
    public long size(long oid) throws IOException {
        return guarded(oid, Kind.OTHER, () -> inner.size(oid));
    }

    @Override
    public void resetChecksums(long oid) throws IOException {
        guarded(oid, Kind.CHANGE, () -> {
            inner.resetChecksums(oid);
            return null;
        });
    }

    @Override
    public void create(long oid, long version) throws IOException {
        guarded(oid, Kind.REPLACE, () -> {
            inner.create(oid, version);
            return null;
        });
    }

    @Override
    public void installPacked(long oid, long version, int length, int[] entries, ByteBuffer packed) throws IOException {
        guarded(oid, Kind.INSTALL, () -> {
            inner.installPacked(oid, version, length, entries, packed);
            return null;
        });
    }

    @Override
    public void install(long oid, long version, ByteBuffer content) throws IOException {
        guarded(oid, Kind.INSTALL, () -> {
            inner.install(oid, version, content);
            return null;
        });
    }

    /**
     * A disabled object shows as present but failing verification (bad block -1, "unknown"), so
     * that no node takes it as a source and repair replaces it; its version is what the store
     * says, if it still can.
     */
    @Override
    public ObjectMeta stat(long oid, boolean verify) throws IOException {
        if (disabled.containsKey(oid) && failed == null) {
            long v;
            try {
                v = inner.version(oid);
            } catch (IOException e) {
                v = 0;
            }
            return new ObjectMeta(true, v, 0, List.of(-1));
        }
        return guarded(oid, Kind.READ, () -> inner.stat(oid, verify));
    }

    @Override
    public void close() throws IOException {
        if (prober != null) {
            prober.shutdownNow();
            try {
                // A probe under way still creates its file: let it finish before the directory may go.
                prober.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        inner.close();
    }
}
