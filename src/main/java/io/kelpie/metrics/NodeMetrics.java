package io.kelpie.metrics;

/**
 * The node's metrics as its layers see them: small typed recorders for the NBD frontend and the
 * peer server, and the node's gauges read through a {@link NodeProbe}. {@link #off()} is the
 * no-op twin for a node run without {@code --metrics}; {@link PrometheusMetrics} the real one.
 */
public interface NodeMetrics extends AutoCloseable {
    NbdMetrics nbd();

    PeerRecorder peer();

    /** Starts publishing the node's gauges (recovery, store, connections), read from {@code probe} at scrape time. */
    void watch(NodeProbe probe);

    @Override
    void close();

    static NodeMetrics off() {
        return Off.INSTANCE;
    }

    /** Records nothing, publishes nothing. */
    enum Off implements NodeMetrics {
        INSTANCE;

        @Override
        public NbdMetrics nbd() {
            return NbdMetrics.OFF;
        }

        @Override
        public PeerRecorder peer() {
            return PeerRecorder.OFF;
        }

        @Override
        public void watch(NodeProbe probe) {
        }

        @Override
        public void close() {
        }
    }
}
