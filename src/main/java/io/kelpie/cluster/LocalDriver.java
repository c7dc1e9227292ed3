package io.kelpie.cluster;

/**
 * A {@link ClusterDriver} for several nodes in one JVM sharing a {@link LocalHub}: the same
 * membership logic as {@link JGroupsDriver} over an instant, in-process transport.
 */
public final class LocalDriver extends OrderedDriver {
    final LocalHub.Endpoint endpoint;

    LocalDriver(LocalHub.Endpoint endpoint) {
        super(endpoint, "kelpie-cluster-" + endpoint.name);
        this.endpoint = endpoint;
    }

    /** Drops off the hub without a word, as a killed process would. */
    @Override
    public void crash() {
        super.crash();
    }
}
