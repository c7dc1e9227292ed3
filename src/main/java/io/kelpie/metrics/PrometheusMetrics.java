package io.kelpie.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * The node's metrics in Micrometer's Prometheus registry: the NBD and peer meters, the node's
 * gauges, and the JVM's (memory with its buffer pools, GC, threads, classes, CPU, uptime, file
 * descriptors) plus netty's direct memory, which the JVM's "direct" buffer pool does not count:
 * netty allocates its pooled arenas without a Cleaner.
 */
public final class PrometheusMetrics implements NodeMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The Prometheus text format, what a scraper gets unless it asks for OpenMetrics. */
    public static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    public static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    private final Map<String, VdiMeters> exports = new ConcurrentHashMap<>();
    private final PeerMeters peer = new PeerMeters(registry);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private volatile NodeProbe probe;

    /** @param alloc the node's buffer allocator, whose pooled memory is published */
    public PrometheusMetrics(ByteBufAllocator alloc) {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        if (PlatformDependent.usedDirectMemory() >= 0) { // -1: netty does not count (it uses Cleaners)
            gauge("kelpie.netty.direct.memory.used", "bytes", "Direct memory netty holds, pooled arenas included",
                    this, m -> PlatformDependent.usedDirectMemory());
        }
        if (alloc instanceof ByteBufAllocatorMetricProvider p) {
            gauge("kelpie.netty.pool.direct", "bytes", "Direct memory of the node's pooled allocator's arenas",
                    p, a -> a.metric().usedDirectMemory());
            gauge("kelpie.netty.pool.heap", "bytes", "Heap memory of the node's pooled allocator's arenas",
                    p, a -> a.metric().usedHeapMemory());
        }
    }

    @Override
    public NbdMetrics nbd() {
        return name -> exports.computeIfAbsent(name, n -> new VdiMeters(registry, n));
    }

    @Override
    public PeerRecorder peer() {
        return peer;
    }

    @Override
    public void watch(NodeProbe p) {
        probe = p;
        SpaceSample space = new SpaceSample(p);
        gauge("kelpie.recovery.objects.remaining", null, "Objects the recovery pass has still to make current here",
                p, NodeProbe::recoveryObjectsRemaining);
        gauge("kelpie.recovery.bytes.remaining", null, "Bytes of the objects recovery has still to make current here",
                p, NodeProbe::recoveryBytesRemaining);
        gauge("kelpie.recovery.running", null, "1 while a recovery pass runs or is queued, else 0",
                p, x -> x.recoveryRunning() ? 1 : 0);
        gauge("kelpie.store.bytes.used", null, "Bytes in the object store's files",
                space, s -> value(s, 0));
        gauge("kelpie.store.bytes.free", null, "Bytes free for the object store on its file system",
                space, s -> value(s, 1));
        gauge("kelpie.store.objects", null, "Objects (replicas) in the object store", space, s -> value(s, 2));
        gauge("kelpie.nbd.connections", null, "NBD connections open", p, NodeProbe::nbdConnections);
    }

    /**
     * The content type answering an HTTP Accept header: OpenMetrics when the scraper lists it (as
     * Prometheus does), else the Prometheus text format 0.0.4. Both are text, so a person with curl
     * reads what Prometheus reads; the protobuf format is not offered.
     */
    public static String contentType(String accept) {
        return accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS : TEXT;
    }

    /** Writes every series in {@code contentType} (one of {@link #contentType}'s); deleted exports' meters go first. */
    public void scrape(OutputStream out, String contentType) throws IOException {
        prune();
        registry.scrape(out, contentType);
    }

    /** The Prometheus text of every series (tests, logs). */
    public String scrape() {
        prune();
        return registry.scrape();
    }

    private void prune() {
        NodeProbe p = probe;
        if (p == null) {
            return;
        }
        for (Map.Entry<String, VdiMeters> e : exports.entrySet()) {
            if (!p.exportExists(e.getKey()) && exports.remove(e.getKey(), e.getValue())) {
                e.getValue().remove();
            }
        }
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    private <T> void gauge(String name, String unit, String help, T obj, ToDoubleFunction<T> f) {
        Gauge.builder(name, obj, f).baseUnit(unit).description(help).strongReference(true).register(registry);
    }

    private static double value(SpaceSample s, int which) {
        NodeProbe.Space v = s.get();
        if (v == null) {
            return Double.NaN;
        }
        return which == 0 ? v.used() : which == 1 ? v.free() : v.objects();
    }
}
