package io.kelpie.config;

import io.kelpie.common.ObjectIds;

import java.util.Properties;
import java.util.UUID;

/**
 * What {@code cluster format} decides once for the life of a cluster, stored in every node's data
 * directory: its id (a node of another cluster is refused), creation time, default copies, the
 * fewest copies a write may be acknowledged with, and object size.
 */
public record ClusterConfig(UUID clusterId, long createTime, int copies, int minCopies, int blockSizeShift) {
    public static final int FORMAT_VERSION = 1;

    public ClusterConfig {
        if (minCopies < 1 || minCopies > copies) {
            throw new IllegalArgumentException("min-copies must be between 1 and the copies (" + copies + ")");
        }
    }

    /** {@code minCopies} 0 means the default, a majority of the copies. */
    public static ClusterConfig create(int copies, int minCopies) {
        return new ClusterConfig(UUID.randomUUID(), System.currentTimeMillis(), copies,
                minCopies == 0 ? defaultMinCopies(copies) : minCopies, ObjectIds.DEFAULT_BLOCK_SIZE_SHIFT);
    }

    /** A majority: 1 of 1, 2 of 2 or 3, 3 of 4 or 5. */
    public static int defaultMinCopies(int copies) {
        return copies / 2 + 1;
    }

    /**
     * The fewest replicas that must store a write of an object with {@code objectCopies} copies
     * before it is acknowledged: the cluster's min-copies for VDIs with the cluster's copies, a
     * majority for VDIs created with other copies (never more than they have).
     */
    public int minCopiesFor(int objectCopies) {
        return objectCopies == copies ? minCopies : Math.min(objectCopies, defaultMinCopies(objectCopies));
    }

    public long objectSize() {
        return 1L << blockSizeShift;
    }

    Properties toProperties() {
        Properties p = new Properties();
        p.setProperty("format.version", String.valueOf(FORMAT_VERSION));
        p.setProperty("cluster.id", clusterId.toString());
        p.setProperty("cluster.create_time", String.valueOf(createTime));
        p.setProperty("cluster.copies", String.valueOf(copies));
        p.setProperty("cluster.min_copies", String.valueOf(minCopies));
        p.setProperty("cluster.block_size_shift", String.valueOf(blockSizeShift));
        return p;
    }

    static ClusterConfig fromProperties(Properties p) {
        int version = Integer.parseInt(p.getProperty("format.version", "0"));
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException("unsupported data directory format version " + version);
        }
        int copies = Integer.parseInt(p.getProperty("cluster.copies"));
        String min = p.getProperty("cluster.min_copies"); // absent in directories formatted before it existed
        return new ClusterConfig(
                UUID.fromString(p.getProperty("cluster.id")),
                Long.parseLong(p.getProperty("cluster.create_time")),
                copies,
                min == null ? defaultMinCopies(copies) : Integer.parseInt(min),
                Integer.parseInt(p.getProperty("cluster.block_size_shift")));
    }
}
