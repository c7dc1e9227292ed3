package io.kelpie.metrics;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A node as the metrics see it, with values a test sets. */
final class FakeProbe implements NodeProbe {
    volatile long objectsLeft;
    volatile long bytesLeft;
    volatile boolean running;
    volatile Space space = new Space(0, 0, 0);
    volatile int spaceReads;
    final Set<String> exports = ConcurrentHashMap.newKeySet();

    @Override
    public long recoveryObjectsRemaining() {
        return objectsLeft;
    }

    @Override
    public long recoveryBytesRemaining() {
        return bytesLeft;
    }

    @Override
    public boolean recoveryRunning() {
        return running;
    }

    @Override
    public Space space() {
        spaceReads++;
        return space;
    }

    @Override
    public int nbdConnections() {
        return 3;
    }

    @Override
    public boolean exportExists(String exportName) {
        return exports.contains(exportName);
    }
}
