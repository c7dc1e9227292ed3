package io.kelpie.gateway;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.common.Transports;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.kelpie.gateway.GatewayHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer that accepts connections and never answers: a paused process, or the old connection to a
 * host that crashed without a FIN. Reads waited 30 s on such a peer (the pool's timeout for every
 * request, and the connection kept forever); now a request waits what its caller gives it, and a
 * connection silent for long is dropped so the next request starts afresh.
 */
@Timeout(60)
class HungPeerTest {
    private ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger closedByClient = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private EventLoopGroup group;
    private PeerPool pool;

    @BeforeEach
    void start() throws IOException {
        server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    sockets.add(s);
                    threads.execute(() -> drain(s));
                } catch (IOException e) {
                    return;
                }
            }
        });
        group = Transports.group(1);
        pool = new PeerPool(group, threads, Duration.ofSeconds(30));
    }

    /** Swallows whatever comes; counts the client hanging up. */
    private void drain(Socket s) {
        byte[] buf = new byte[4096];
        try (InputStream in = s.getInputStream()) {
            while (in.read(buf) >= 0) {
                // never answer
            }
            closedByClient.incrementAndGet();
        } catch (IOException e) {
            closedByClient.incrementAndGet();
        }
    }

    @AfterEach
    void stop() throws IOException {
        pool.close();
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        threads.shutdownNow();
    }

    private String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    @Test
    void aRequestWaitsOnlyItsOwnTimeout() {
        long start = System.nanoTime();
        CompletionException e = assertThrows(CompletionException.class, () ->
                pool.send(address(), PeerRequest.of(PeerConstants.READ_OBJ, 0, 1, 1, 0, 4096), Duration.ofMillis(300)).join());
        long took = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Status.IO_ERROR, KelpieException.statusOf(e));
        assertTrue(KelpieException.messageOf(e).contains("timed out"), KelpieException.messageOf(e));
        assertTrue(took < 2000, "took " + took + " ms");
    }

    @Test
    void aConnectionSilentForLongIsDroppedAndTheNextRequestReconnects() throws Exception {
        // Long enough that the connection has been silent past the limit when it times out.
        Duration timeout = Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(io.kelpie.peer.PeerClientAccess.silentCloseNanos()) + 300);
        assertThrows(CompletionException.class, () ->
                pool.send(address(), PeerRequest.of(PeerConstants.FLUSH, 0, 1, 0, 0, 0), timeout).join());
        await("the silent connection is closed", 5000, () -> closedByClient.get() == 1);
        assertThrows(CompletionException.class, () ->
                pool.send(address(), PeerRequest.of(PeerConstants.FLUSH, 0, 1, 0, 0, 0), Duration.ofMillis(200)).join());
        assertEquals(2, accepted.get(), "the next request did not open a fresh connection");
    }
}
