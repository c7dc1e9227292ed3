package io.kelpie.config;

import io.kelpie.vdi.Inode;

import java.util.Properties;
import java.util.UUID;

/**
 * What {@code cluster format} decides once for the life of a cluster, stored in every node's data
 * directory: its id (a node of another cluster is refused), creation time, default copies and
 * object size.
 */
public record ClusterConfig(UUID clusterId, long createTime, int copies, int blockSizeShift) {
    public static final int FORMAT_VERSION = 1;

    public static ClusterConfig create(int copies) {
        return new ClusterConfig(UUID.randomUUID(), System.currentTimeMillis(), copies, Inode.DEFAULT_BLOCK_SIZE_SHIFT);
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
        p.setProperty("cluster.block_size_shift", String.valueOf(blockSizeShift));
        return p;
    }

    static ClusterConfig fromProperties(Properties p) {
        int version = Integer.parseInt(p.getProperty("format.version", "0"));
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException("unsupported data directory format version " + version);
        }
        return new ClusterConfig(
                UUID.fromString(p.getProperty("cluster.id")),
                Long.parseLong(p.getProperty("cluster.create_time")),
                Integer.parseInt(p.getProperty("cluster.copies")),
                Integer.parseInt(p.getProperty("cluster.block_size_shift")));
    }
}
