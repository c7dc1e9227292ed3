package io.kelpie.metrics;

import java.io.IOException;

/**
 * What the metrics read from the node at scrape time, on the metrics thread: the node adapts its
 * recovery, store and catalogue to it, so this package needs none of their types.
 */
public interface NodeProbe {
    /** Objects the running recovery pass has still to make current here (0 when none runs). */
    long recoveryObjectsRemaining();

    /** Bytes of those objects. */
    long recoveryBytesRemaining();

    /** True while a recovery pass runs or is queued. */
    boolean recoveryRunning();

    /** The object store's space: bytes in object files, bytes free on its file system, objects. */
    Space space() throws IOException;

    /** NBD connections open now. */
    int nbdConnections();

    /** False once export {@code exportName} was deleted: its meters are then removed. */
    boolean exportExists(String exportName);

    record Space(long used, long free, long objects) {
    }
}
