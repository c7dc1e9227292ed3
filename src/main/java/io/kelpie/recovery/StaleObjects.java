package io.kelpie.recovery;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.Ring;
import java.util.List;
import io.kelpie.store.FileObjectStore;
import io.kelpie.store.ObjectStore;
import io.kelpie.vdi.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongToIntFunction;

/**
 * Objects this node held but is no longer a replica of. When an epoch begins, each such object is
 * moved out of the live store into {@code DATA/stale}: it may miss writes made while this node
 * was not a replica, so it must never be served as current again, yet it may be the only copy a
 * new replica can recover from (recovery reads it with FLAG_STALE_OK). Like Sheepdog, stale
 * copies are kept; removing them once the whole cluster has recovered is background recovery's job.
 */
public final class StaleObjects implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StaleObjects.class);
    private static final int CHUNK = 64 << 10;

    private final ObjectStore live;
    private final FileObjectStore stale;
    private final LongToIntFunction copiesOf;
    private final ExecutorService sweeper;

    /** @param copiesOf copies of an object's VDI (by oid), 0 when unknown */
    public StaleObjects(ObjectStore live, Path dir, LongToIntFunction copiesOf) throws IOException {
        this.live = live;
        this.stale = new FileObjectStore(dir);
        this.copiesOf = copiesOf;
        this.sweeper = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "kelpie-stale-sweep");
            t.setDaemon(true);
            return t;
        });
    }

    public ObjectStore store() {
        return stale;
    }

    /**
     * Moves aside every live object this node was not a replica of in one of {@code epochs} (the
     * new epoch, and any it missed while away: it may have missed writes then). Synchronous: it
     * must end before I/O of the new epoch can find a stale object in the live store.
     */
    public void sweep(long epoch, List<Epoch> epochs, NodeInfo self) {
        List<Ring> rings = epochs.stream().map(e -> new Ring(e.members())).toList();
        try {
            sweeper.submit(() -> sweepNow(epoch, rings, self)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            log.error("moving stale objects aside for epoch {} failed: {}", epoch, e.getMessage());
        }
    }

    private void sweepNow(long epoch, List<Ring> rings, NodeInfo self) {
        int moved = 0;
        try {
            for (long oid : live.list()) {
                int copies = copiesOf.applyAsInt(oid);
                if (copies > 0 && heldThroughout(oid, copies, rings, self)) {
                    continue;
                }
                move(oid);
                moved++;
            }
        } catch (IOException e) {
            log.error("moving stale objects aside for epoch {} failed: {}", epoch, e.getMessage());
        }
        if (moved > 0) {
            log.info("epoch {}: moved {} object(s) this node no longer holds to the stale store", epoch, moved);
        }
    }

    private static boolean heldThroughout(long oid, int copies, List<Ring> rings, NodeInfo self) {
        for (Ring r : rings) {
            if (r.replicas(oid, copies).stream().noneMatch(n -> n.id().equals(self.id()))) {
                return false;
            }
        }
        return true;
    }

    private void move(long oid) throws IOException {
        stale.remove(oid);
        if (live instanceof FileObjectStore f) {
            // Same file system: renames (data and its version/checksum table), after a sync.
            f.moveTo(oid, stale);
            return;
        }
        long size = objectLength(oid);
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        boolean wrote = false;
        for (long off = 0; off < size; off += CHUNK) {
            buf.clear();
            buf.limit((int) Math.min(CHUNK, size - off));
            live.read(oid, off, buf);
            buf.flip();
            if (!allZero(buf)) {
                stale.write(oid, off, buf);
                wrote = true;
            }
        }
        if (!wrote) {
            stale.write(oid, 0, ByteBuffer.allocate(1));
        }
        stale.sync(oid);
        live.remove(oid);
    }

    private long objectLength(long oid) {
        return ObjectIds.isInode(oid) ? (8192L + (4L << 20)) : (4L << 20);
    }

    private static boolean allZero(ByteBuffer b) {
        for (int i = b.position(); i < b.limit(); i++) {
            if (b.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        try {
            stale.close();
        } catch (IOException e) {
            log.warn("closing the stale store failed: {}", e.getMessage());
        }
    }
}
