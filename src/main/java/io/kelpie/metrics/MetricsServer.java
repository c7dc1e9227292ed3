package io.kelpie.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * Serves {@code GET /metrics} on {@code node run --metrics ADDR:PORT} with the JDK's HTTP server,
 * on one thread of its own: a scrape never runs on a netty event loop or the cluster's thread.
 * The JDK's server needs no dependency and is all a scrape endpoint needs; the Prometheus
 * exporter's would bring its own jar and answer paths other than /metrics.
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);
    private static final byte[] NOT_FOUND = "only /metrics is served here\n".getBytes(StandardCharsets.UTF_8);

    private final HttpServer server;
    private final ExecutorService thread;
    private final PrometheusMetrics metrics;

    private MetricsServer(HttpServer server, ExecutorService thread, PrometheusMetrics metrics) {
        this.server = server;
        this.thread = thread;
        this.metrics = metrics;
    }

    /** Listens on {@code address} (port 0: any free one) and serves {@code metrics}. */
    public static MetricsServer start(InetSocketAddress address, PrometheusMetrics metrics) throws IOException {
        HttpServer s;
        try {
            s = HttpServer.create(address, 16);
        } catch (IOException e) {
            // no cause: the CLI prints a failure's root cause, and this line says more than "Address already in use"
            throw new IOException("cannot listen for metrics on " + MetricsAddress.format(address) + ": " + e.getMessage());
        }
        ExecutorService t = Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "kelpie-metrics");
            th.setDaemon(true);
            return th;
        });
        MetricsServer m = new MetricsServer(s, t, metrics);
        s.createContext("/", m::handle);
        s.setExecutor(t);
        s.start();
        log.info("metrics served at http://{}/metrics", MetricsAddress.format(m.address()));
        return m;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String method = x.getRequestMethod();
            if (!x.getRequestURI().getPath().equals("/metrics")) {
                send(x, 404, "text/plain; charset=utf-8", NOT_FOUND, false);
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                x.getResponseHeaders().set("Allow", "GET, HEAD");
                send(x, 405, "text/plain; charset=utf-8", new byte[0], false);
                return;
            }
            String accept = x.getRequestHeaders().getFirst("Accept");
            ByteArrayOutputStream body = new ByteArrayOutputStream(64 << 10);
            String type = PrometheusMetrics.contentType(accept);
            metrics.scrape(body, type);
            String enc = x.getRequestHeaders().getFirst("Accept-Encoding");
            boolean gzip = enc != null && enc.toLowerCase(java.util.Locale.ROOT).contains("gzip");
            send(x, 200, type, body.toByteArray(), gzip);
        } catch (IOException | RuntimeException e) {
            log.debug("metrics request from {} failed: {}", x.getRemoteAddress(), e.toString());
            throw e;
        }
    }

    private static void send(HttpExchange x, int status, String type, byte[] body, boolean gzip) throws IOException {
        x.getResponseHeaders().set("Content-Type", type);
        if (gzip) {
            ByteArrayOutputStream z = new ByteArrayOutputStream(body.length / 4 + 64);
            try (GZIPOutputStream g = new GZIPOutputStream(z)) {
                g.write(body);
            }
            body = z.toByteArray();
            x.getResponseHeaders().set("Content-Encoding", "gzip");
        }
        boolean head = x.getRequestMethod().equals("HEAD");
        x.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdown();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
