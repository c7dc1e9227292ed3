package io.kelpie.node;

import io.kelpie.metrics.MetricsServer;
import io.kelpie.metrics.NodeMetrics;
import io.kelpie.metrics.PrometheusMetrics;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The node's metrics ({@code node run --metrics}): off unless an address was given, then a
 * Prometheus registry whose recorders the NBD and peer servers get at their start, served over
 * HTTP once the node's parts exist for its gauges to read.
 */
final class MetricsPart implements AutoCloseable {
    private InetSocketAddress at;
    private NodeMetrics metrics = NodeMetrics.off();
    private MetricsServer server;

    void at(InetSocketAddress address) {
        this.at = address;
    }

    /** Before the servers start: the recorders they get. */
    NodeMetrics open(ByteBufAllocator alloc) {
        metrics = at == null ? NodeMetrics.off() : new PrometheusMetrics(alloc);
        return metrics;
    }

    /** Once the node's parts exist: publishes its gauges and serves /metrics on a thread of its own. */
    void serve(Node node) throws IOException {
        metrics.watch(new NodeGauges(node));
        if (metrics instanceof PrometheusMetrics p) {
            server = MetricsServer.start(at, p);
        }
    }

    /** Where /metrics is served, null without metrics. */
    InetSocketAddress address() {
        return server == null ? null : server.address();
    }

    /** The server first, so no scrape reads a node half closed; a recorder used after this records into nothing. */
    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        metrics.close();
    }
}
