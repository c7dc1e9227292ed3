package io.kelpie.metrics;

import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

import static io.kelpie.nbd.NbdConstants.NBD_CMD_WRITE;
import static org.junit.jupiter.api.Assertions.*;

/** GET /metrics over real HTTP on loopback: the formats a scraper asks for, and nothing else served. */
class MetricsServerTest {
    private final HttpClient http = HttpClient.newHttpClient();
    private PrometheusMetrics metrics;
    private MetricsServer server;

    @BeforeEach
    void start() throws IOException {
        metrics = new PrometheusMetrics(PooledByteBufAllocator.DEFAULT);
        metrics.nbd().export("vm1").request(NBD_CMD_WRITE, 65536, 1000, true);
        server = MetricsServer.start(new InetSocketAddress("127.0.0.1", 0), metrics);
    }

    @AfterEach
    void stop() {
        server.close();
        metrics.close();
    }

    private HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void metricsInThePrometheusTextFormat() throws Exception {
        HttpResponse<byte[]> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("Content-Type").orElse(""));
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertEquals(65536, PrometheusMetricsTest.value(body, "kelpie_nbd_bytes_total{command=\"write\",vdi=\"vm1\"}"));
        assertFalse(body.contains("# EOF"));
    }

    @Test
    void openMetricsWhenTheScraperAsksForIt() throws Exception {
        // what Prometheus 2.x/3.x sends
        HttpResponse<byte[]> r = get("/metrics", "Accept", "application/openmetrics-text;version=1.0.0;q=0.5,"
                + "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text; version=1.0.0"));
        String body = new String(r.body(), StandardCharsets.UTF_8);
        assertTrue(body.endsWith("# EOF\n"), body);
        assertTrue(body.contains("kelpie_nbd_bytes_total{command=\"write\",vdi=\"vm1\"} 65536"), body);
    }

    @Test
    void gzipWhenAccepted() throws Exception {
        HttpResponse<byte[]> r = get("/metrics", "Accept-Encoding", "gzip");
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(""));
        String body = new String(new GZIPInputStream(new ByteArrayInputStream(r.body())).readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(65536, PrometheusMetricsTest.value(body, "kelpie_nbd_bytes_total{command=\"write\",vdi=\"vm1\"}"));
    }

    @Test
    void otherPathsAndMethodsAreRefused() throws Exception {
        for (String path : new String[] {"/", "/metricsx", "/metrics/", "/metrics/x", "/favicon.ico"}) {
            HttpResponse<byte[]> r = get(path);
            assertEquals(404, r.statusCode(), path);
            assertFalse(new String(r.body(), StandardCharsets.UTF_8).contains("kelpie_"), path);
        }
        HttpRequest post = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build();
        assertEquals(405, http.send(post, HttpResponse.BodyHandlers.discarding()).statusCode());
    }

    @Test
    void aBusyPortIsAClearError() {
        IOException e = assertThrows(IOException.class, () -> MetricsServer.start(server.address(), metrics));
        // what the CLI prints: a failure's root cause
        String said = io.kelpie.common.KelpieException.messageOf(e);
        assertTrue(said.startsWith("cannot listen for metrics on 127.0.0.1:" + server.address().getPort() + ": "), said);
    }
}
