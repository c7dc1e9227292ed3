package io.kelpie.metrics;

import io.kelpie.peer.PeerConstants;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/** The registry's Prometheus text after recorded requests: names, labels and values as recorded. */
class PrometheusMetricsTest {
    private final PrometheusMetrics metrics = new PrometheusMetrics(PooledByteBufAllocator.DEFAULT);
    private final FakeProbe probe = new FakeProbe();

    @AfterEach
    void close() {
        metrics.close();
    }

    /** The value of the one series {@code name{labels}} in {@code text}; fails when absent. */
    static double value(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), series + " not in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void nbdRequestsBytesAndLatencyAreWhatWasRecorded() {
        probe.exports.add("vm1");
        metrics.watch(probe);
        VdiRecorder vm1 = metrics.nbd().export("vm1");
        assertSame(vm1, metrics.nbd().export("vm1"), "connections to one export share its meters");
        for (int i = 0; i < 1000; i++) {
            vm1.request(NBD_CMD_WRITE, 65536 + i, 300_000, true); // 300 us
        }
        vm1.request(NBD_CMD_WRITE, 4096, 7_000_000_000L, false); // a failed one: no bytes, 7 s
        vm1.request(NBD_CMD_READ, 4096, 40_000, true);
        vm1.request(NBD_CMD_FLUSH, 0, 2_000_000, true);
        long written = 1000L * 65536 + 999L * 1000 / 2;
        String t = metrics.scrape();
        assertEquals(1001, value(t, "kelpie_nbd_requests_total{command=\"write\",vdi=\"vm1\"}"));
        assertEquals(1, value(t, "kelpie_nbd_errors_total{command=\"write\",vdi=\"vm1\"}"));
        assertEquals(written, value(t, "kelpie_nbd_bytes_total{command=\"write\",vdi=\"vm1\"}"));
        assertEquals(4096, value(t, "kelpie_nbd_bytes_total{command=\"read\",vdi=\"vm1\"}"));
        assertFalse(t.contains("kelpie_nbd_bytes_total{command=\"flush\""), "a flush covers no bytes");
        assertFalse(t.contains("command=\"trim\""), "no series for a command never used");
        // histogram: cumulative buckets, 50 us .. 10 s
        assertEquals(0, value(t, "kelpie_nbd_request_seconds_bucket{command=\"write\",vdi=\"vm1\",le=\"2.5E-4\"}"));
        assertEquals(1000, value(t, "kelpie_nbd_request_seconds_bucket{command=\"write\",vdi=\"vm1\",le=\"5.0E-4\"}"));
        assertEquals(1000, value(t, "kelpie_nbd_request_seconds_bucket{command=\"write\",vdi=\"vm1\",le=\"5.0\"}"));
        assertEquals(1001, value(t, "kelpie_nbd_request_seconds_bucket{command=\"write\",vdi=\"vm1\",le=\"10.0\"}"));
        assertEquals(1001, value(t, "kelpie_nbd_request_seconds_bucket{command=\"write\",vdi=\"vm1\",le=\"+Inf\"}"));
        assertEquals(1, value(t, "kelpie_nbd_request_seconds_bucket{command=\"read\",vdi=\"vm1\",le=\"5.0E-5\"}"));
        assertEquals(1001, value(t, "kelpie_nbd_request_seconds_count{command=\"write\",vdi=\"vm1\"}"));
        assertEquals(1000 * 0.0003 + 7, value(t, "kelpie_nbd_request_seconds_sum{command=\"write\",vdi=\"vm1\"}"), 1e-6);
        assertEquals(VdiMeters.BUCKETS.length + 1, count(t, "kelpie_nbd_request_seconds_bucket{command=\"write\",vdi=\"vm1\""));
    }

    @Test
    void aCommandCostsTwentyFourSeries() {
        metrics.nbd().export("vm1").request(NBD_CMD_WRITE, 512, 1000, true);
        String t = metrics.scrape();
        long series = t.lines().filter(l -> !l.startsWith("#") && l.contains("vdi=\"vm1\"")).count();
        assertEquals(24, series, t); // requests, errors, bytes, 18 buckets, count, sum, max
    }

    @Test
    void aDeletedExportsMetersAreRemoved() {
        probe.exports.add("vm1");
        probe.exports.add("vm2");
        metrics.watch(probe);
        metrics.nbd().export("vm1").request(NBD_CMD_WRITE, 512, 1000, true);
        metrics.nbd().export("vm2").request(NBD_CMD_WRITE, 1024, 1000, true);
        assertTrue(metrics.scrape().contains("vdi=\"vm1\""));
        probe.exports.remove("vm1");
        String t = metrics.scrape();
        assertFalse(t.contains("vdi=\"vm1\""), t);
        assertEquals(1024, value(t, "kelpie_nbd_bytes_total{command=\"write\",vdi=\"vm2\"}"));
        // a new VDI of the same name starts from nothing
        probe.exports.add("vm1");
        metrics.nbd().export("vm1").request(NBD_CMD_WRITE, 4096, 1000, true);
        assertEquals(4096, value(metrics.scrape(), "kelpie_nbd_bytes_total{command=\"write\",vdi=\"vm1\"}"));
    }

    @Test
    void peerRequestsByOpcode() {
        PeerRecorder p = metrics.peer();
        p.request(PeerConstants.WRITE_OBJ, true);
        p.request(PeerConstants.WRITE_OBJ, false);
        p.request(PeerConstants.READ_OBJ, true);
        String t = metrics.scrape();
        assertEquals(2, value(t, "kelpie_peer_requests_total{op=\"write_obj\"}"));
        assertEquals(1, value(t, "kelpie_peer_errors_total{op=\"write_obj\"}"));
        assertEquals(1, value(t, "kelpie_peer_requests_total{op=\"read_obj\"}"));
    }

    @Test
    void nodeGaugesReadTheProbe() {
        probe.objectsLeft = 17;
        probe.bytesLeft = 17L << 22;
        probe.running = true;
        probe.space = new NodeProbe.Space(123456789, 987654321, 42);
        metrics.watch(probe);
        String t = metrics.scrape();
        assertEquals(17, value(t, "kelpie_recovery_objects_remaining"));
        assertEquals(17L << 22, value(t, "kelpie_recovery_bytes_remaining"));
        assertEquals(1, value(t, "kelpie_recovery_running"));
        assertEquals(123456789, value(t, "kelpie_store_bytes_used"));
        assertEquals(987654321, value(t, "kelpie_store_bytes_free"));
        assertEquals(42, value(t, "kelpie_store_objects"));
        assertEquals(3, value(t, "kelpie_nbd_connections"));
        assertEquals(1, probe.spaceReads, "one walk of the store per scrape, not one per gauge");
        probe.objectsLeft = 0;
        assertEquals(0, value(metrics.scrape(), "kelpie_recovery_objects_remaining"));
    }

    @Test
    void jvmAndDirectMemoryGaugesArePresent() {
        io.netty.buffer.ByteBuf held = PooledByteBufAllocator.DEFAULT.directBuffer(1 << 20);
        String t;
        try {
            t = metrics.scrape();
        } finally {
            held.release();
        }
        assertTrue(t.contains("jvm_buffer_memory_used_bytes{id=\"direct\"}"), t);
        assertTrue(t.contains("jvm_memory_used_bytes{area=\"heap\""), t);
        assertTrue(t.contains("jvm_gc_"), t);
        assertTrue(t.contains("jvm_threads_live_threads"), t);
        assertTrue(t.contains("process_cpu_usage"), t);
        assertTrue(value(t, "kelpie_netty_pool_direct_bytes") >= 1 << 20, t); // the buffer held, in netty's arenas
    }

    /**
     * Recording allocates nothing once a command's meters exist: a million requests on this thread
     * allocate less than a byte each (the thread's allocation counter, which counts every TLAB).
     */
    @Test
    void recordingARequestAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        VdiRecorder r = metrics.nbd().export("vm1");
        PeerRecorder p = metrics.peer();
        for (int i = 0; i < 300_000; i++) { // warm up: meters registered, JIT compiled
            record(r, p, i);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 1_000_000; i++) {
            record(r, p, i);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1_000_000, allocated + " bytes allocated by 1M recorded requests");
    }

    private static void record(VdiRecorder r, PeerRecorder p, int i) {
        r.request(i & 1, 4096 + (i & 4095), 1000L + (i & 0xfffff), (i & 255) != 0);
        p.request(PeerConstants.WRITE_OBJ, (i & 255) != 0);
    }

    private static long count(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).count();
    }
}
