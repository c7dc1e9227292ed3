package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.vdi.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * What a node does when its disk fails: the store decorator every node's store is wrapped in.
 *
 * <ul>
 * <li>A failed change of an object (write, zero, sync) <em>quarantines</em> it: this replica has
 *     missed a change, so serving it later would serve old data. So do {@link #READ_ERRORS} failed
 *     reads of it in a row (one bad read may be a transient; a run of them is a bad sector).</li>
 * <li>A quarantined object fails every read, write, zero and sync at once with an I/O error
 *     (IO_ERROR to peers: gateways read from another replica, writes complete with min-copies),
 *     and metadata views (exists, version, stat) show it as absent, so that check and recovery
 *     see a replica to repair. Installing, creating or removing it (repair, recovery, a
 *     create-and-write) lifts the quarantine once the store accepts the new copy.</li>
 * <li>Every I/O error also probes the whole store (at most once a second): a small file is
 *     written, fsynced and deleted beside the objects. A failed probe, or a failed {@link #flush}
 *     (Linux drops dirty pages whose writeback failed, so an unknown set of objects has lost
 *     writes), means the store as a whole is failing: {@code onFailure} is called once, and the
 *     node leaves the cluster so that the others recover its objects. From then on every call
 *     fails at once with SHUTDOWN, which peers treat like an unreachable node: they retry on the
 *     next epoch, which no longer has this node.</li>
 * <li>Checksum failures are not I/O errors (the disk works; a copy rotted): they pass through for
 *     the read path and repair to handle.</li>
 * </ul>
 *
 * The quarantine lives in memory: a restarted node forgets it, and the replica it left behind is
 * found by its older version (recovery, check).
 */
public final class HealthCheckedStore implements ObjectStore {
    private static final Logger log = LoggerFactory.getLogger(HealthCheckedStore.class);

    /** Failed reads of one object in a row that quarantine it. */
    public static final int READ_ERRORS = 3;
    private static final long PROBE_INTERVAL_NANOS = 1_000_000_000L;

    /** Tries whether the store as a whole still works; throws when it does not. */
    @FunctionalInterface
    public interface Probe {
        void run() throws IOException;
    }

    private final ObjectStore inner;
    private final Probe probe;
    private final Consumer<String> onFailure;
    private final ConcurrentHashMap<Long, String> quarantined = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Integer> readErrors = new ConcurrentHashMap<>();
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile String failed;
    private long lastProbe = System.nanoTime() - 2 * PROBE_INTERVAL_NANOS;
    private IOException lastProbeError;

    /** @param onFailure called once, from the I/O thread that found it, when the whole store fails */
    public HealthCheckedStore(ObjectStore inner, Probe probe, Consumer<String> onFailure) {
        this.inner = inner;
        this.probe = probe;
        this.onFailure = onFailure;
    }

    /** The probe every node uses: write, fsync and delete a small file in {@code dir}. */
    public static Probe fileProbe(Path dir) {
        Path p = dir.resolve(".health-probe"); // not 16 hex digits: never listed as an object
        byte[] bytes = "kelpie store probe\n".getBytes(StandardCharsets.US_ASCII);
        return () -> {
            Files.write(p, bytes, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE, StandardOpenOption.DSYNC);
            Files.delete(p);
        };
    }

    /** Why the whole store was given up, or null while it works. */
    public String failure() {
        return failed;
    }

    public boolean isQuarantined(long oid) {
        return quarantined.containsKey(oid);
    }

    // ---- data path: refused for quarantined objects

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        usable(oid);
        try {
            boolean exists = inner.read(oid, offset, dst);
            readErrors.remove(oid);
            return exists;
        } catch (IOException | RuntimeException e) {
            if (isIoError(e)) {
                int n = readErrors.merge(oid, 1, Integer::sum);
                if (n >= READ_ERRORS) {
                    quarantine(oid, n + " failed reads in a row: " + KelpieException.messageOf(e));
                }
                probeAfter(e);
            }
            throw e;
        }
    }

    @Override
    public boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        return failed == null && !quarantined.containsKey(oid) && inner.tryReadCached(oid, offset, dst);
    }

    @Override
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        usable(oid);
        change(oid, "write", () -> inner.write(oid, offset, src));
    }

    @Override
    public void zero(long oid, long offset, long length) throws IOException {
        usable(oid);
        change(oid, "zero", () -> inner.zero(oid, offset, length));
    }

    @Override
    public void sync(long oid) throws IOException {
        usable(oid);
        change(oid, "sync", () -> inner.sync(oid));
    }

    // ---- whole-object replacements: allowed on quarantined objects, and lift the quarantine

    @Override
    public boolean remove(long oid) throws IOException {
        working();
        boolean[] existed = new boolean[1];
        change(oid, "remove", () -> existed[0] = inner.remove(oid));
        lift(oid);
        return existed[0];
    }

    @Override
    public void create(long oid, long version) throws IOException {
        working();
        change(oid, "create", () -> inner.create(oid, version));
        lift(oid);
    }

    @Override
    public void install(long oid, long version, ByteBuffer content) throws IOException {
        working();
        change(oid, "install", () -> inner.install(oid, version, content));
        lift(oid);
    }

    @Override
    public void resetChecksums(long oid) throws IOException {
        working();
        change(oid, "checksum reset", () -> inner.resetChecksums(oid));
    }

    // ---- metadata: a quarantined object shows as absent

    @Override
    public long size(long oid) throws IOException {
        working();
        return quarantined.containsKey(oid) ? 0 : probed(() -> inner.size(oid));
    }

    @Override
    public boolean exists(long oid) throws IOException {
        working();
        return !quarantined.containsKey(oid) && probed(() -> inner.exists(oid));
    }

    @Override
    public long version(long oid) throws IOException {
        working();
        return quarantined.containsKey(oid) ? 0 : probed(() -> inner.version(oid));
    }

    @Override
    public ObjectMeta stat(long oid, boolean verify) throws IOException {
        working();
        if (quarantined.containsKey(oid)) {
            return ObjectMeta.ABSENT;
        }
        return probed(() -> inner.stat(oid, verify));
    }

    @Override
    public List<Long> list() throws IOException {
        working();
        return probed(inner::list);
    }

    @Override
    public StoreStats stats() throws IOException {
        working();
        return probed(inner::stats);
    }

    @Override
    public void flush() throws IOException {
        working();
        try {
            inner.flush();
        } catch (IOException | RuntimeException e) {
            if (isIoError(e)) {
                fail("flush failed: " + KelpieException.messageOf(e));
            }
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }

    // ---- policy

    private interface Change {
        void run() throws IOException;
    }

    private interface Read<T> {
        T get() throws IOException;
    }

    private void change(long oid, String what, Change c) throws IOException {
        try {
            c.run();
        } catch (IOException | RuntimeException e) {
            if (isIoError(e)) {
                quarantine(oid, what + " failed: " + KelpieException.messageOf(e));
                probeAfter(e);
            }
            throw e;
        }
    }

    private <T> T probed(Read<T> r) throws IOException {
        try {
            return r.get();
        } catch (IOException | RuntimeException e) {
            if (isIoError(e)) {
                probeAfter(e);
            }
            throw e;
        }
    }

    /** An error the disk caused: not a checksum failure, not a refusal of ours or the caller's. */
    private static boolean isIoError(Throwable e) {
        if (e instanceof ChecksumException) {
            return false;
        }
        if (e instanceof KelpieException ke) {
            return ke.status() == Status.IO_ERROR || ke.status() == Status.NO_SPACE;
        }
        return e instanceof IOException;
    }

    private void quarantine(long oid, String why) {
        readErrors.remove(oid);
        if (quarantined.putIfAbsent(oid, why) == null) {
            log.error("object {} quarantined on this node ({}): its requests fail until it is repaired",
                    ObjectIds.toHex(oid), why);
        }
    }

    private void lift(long oid) {
        readErrors.remove(oid);
        if (quarantined.remove(oid) != null) {
            log.info("object {} replaced on this node: quarantine lifted", ObjectIds.toHex(oid));
        }
    }

    private void usable(long oid) throws IOException {
        working();
        String why = quarantined.get(oid);
        if (why != null) {
            throw new IOException("object " + ObjectIds.toHex(oid) + " is quarantined on this node after a store error ("
                    + why + ")");
        }
    }

    private void working() {
        String why = failed;
        if (why != null) {
            throw new KelpieException(Status.SHUTDOWN, "this node's object store failed (" + why + "); it is leaving the cluster");
        }
    }

    /** After an I/O error: is it the object or the whole store? */
    private void probeAfter(Throwable cause) {
        IOException err;
        synchronized (this) {
            long now = System.nanoTime();
            if (now - lastProbe >= PROBE_INTERVAL_NANOS) {
                lastProbe = now;
                try {
                    probe.run();
                    lastProbeError = null;
                } catch (IOException | RuntimeException e) {
                    lastProbeError = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
                }
            }
            err = lastProbeError;
        }
        if (err != null) {
            fail("after \"" + KelpieException.messageOf(cause) + "\", a probe write failed too: " + KelpieException.messageOf(err));
        }
    }

    private void fail(String why) {
        if (failed == null) {
            failed = why;
        }
        if (reported.compareAndSet(false, true)) {
            log.error("the object store is failing ({}): giving it up", why);
            onFailure.accept(why);
        }
    }
}
