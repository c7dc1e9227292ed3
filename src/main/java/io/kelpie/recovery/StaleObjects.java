package io.kelpie.recovery;

import io.kelpie.store.FileObjectStore;
import io.kelpie.store.ObjectStore;
import io.kelpie.common.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Copies this node holds but no longer owns. They stay in the live store (never served: reads
 * follow the ring, and on-demand recovery compares versions) until every member of the epoch has
 * recovered, then background recovery deletes them here. Earlier versions moved them aside to
 * {@code DATA/stale} on the cluster thread; {@link #migrate} undoes that once, at start.
 */
public final class StaleObjects {
    private static final Logger log = LoggerFactory.getLogger(StaleObjects.class);

    private StaleObjects() {
    }

    /**
     * Moves the objects of an old {@code DATA/stale} back into the live store (where it lacks
     * them: it may be the only copy left, and versions now tell whether it is current) and
     * deletes the rest, then the directory.
     */
    public static void migrate(ObjectStore live, Path staleDir) throws IOException {
        if (!Files.isDirectory(staleDir)) {
            return;
        }
        int back = 0;
        int dropped = 0;
        try (FileObjectStore stale = new FileObjectStore(staleDir)) {
            for (long oid : stale.list()) {
                if (live.exists(oid)) {
                    dropped++;
                } else if (live instanceof FileObjectStore f) {
                    stale.moveTo(oid, f); // the data and its version/checksum table
                    back++;
                    continue;
                } else {
                    long size = Files.size(stale.pathOf(oid));
                    ByteBuffer buf = ByteBuffer.allocate((int) size);
                    stale.read(oid, 0, buf);
                    buf.flip();
                    live.install(oid, 1, buf);
                    back++;
                }
                stale.remove(oid);
            }
        }
        try (var rest = Files.list(staleDir)) {
            for (Path p : rest.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(staleDir);
        log.info("migrated {}: {} object(s) moved back to the store, {} older duplicate(s) deleted", staleDir, back, dropped);
    }

    /** What a deletion freed. */
    public record Freed(int objects, long bytes) {
    }

    /**
     * Deletes {@code oids} (already checked to be held by all their current replicas), stopping
     * early when {@code stop} says a newer epoch came.
     */
    public static Freed delete(ObjectStore store, List<Long> oids, BooleanSupplier stop) throws IOException {
        long before = store.stats().used();
        int n = 0;
        for (long oid : oids) {
            if (stop.getAsBoolean()) {
                break;
            }
            if (store.remove(oid)) {
                n++;
                log.debug("deleted object {}, no longer held here", ObjectIds.toHex(oid));
            }
        }
        long after = n == 0 ? before : store.stats().used();
        return new Freed(n, Math.max(0, before - after));
    }
}
