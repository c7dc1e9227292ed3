package io.kelpie.peer;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.node.Node;
import io.kelpie.node.NodeOptions;
import io.kelpie.common.Transports;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Object opcodes through a real PeerClient against a real node's PeerServer. Requests carry epoch
 * 0, as a tool's do: a placed epoch would be refused by this unformatted (epoch 0) node.
 */
class PeerClientServerTest {
    @TempDir
    Path dir;
    private Node node;
    private EventLoopGroup group;
    private PeerClient client;

    @BeforeEach
    void start() throws Exception {
        node = new Node(new NodeOptions(dir, "127.0.0.1", 0, 0, List.of(), null, 0, 0, 4)).start();
        group = Transports.group(1);
        client = PeerClient.connect("127.0.0.1:" + node.peerPort(), group, Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        client.close();
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
        node.close();
    }

    private PeerResponse call(PeerRequest req) {
        return client.send(req).join();
    }

    @Test
    void objectOpsRoundTrip() {
        long oid = 0x00abcdef00000003L;
        byte[] data = new byte[100_000];
        new Random(1).nextBytes(data);
        call(new PeerRequest(PeerConstants.WRITE_OBJ, PeerConstants.FLAG_SYNC, 0, 0, oid, 4096, 0,
                Unpooled.wrappedBuffer(data))).check().release();

        PeerResponse read = call(PeerRequest.of(PeerConstants.READ_OBJ, 0, 0, oid, 4096, data.length)).check();
        assertArrayEquals(data, ByteBufUtil.getBytes(read.payload()));
        read.release();

        PeerResponse head = call(PeerRequest.of(PeerConstants.READ_OBJ, 0, 0, oid, 0, 4096)).check();
        assertArrayEquals(new byte[4096], ByteBufUtil.getBytes(head.payload()), "never-written bytes read as zeros");
        head.release();

        assertEquals(1, flag(call(PeerRequest.of(PeerConstants.EXISTS_OBJ, 0, 0, oid, 0, 0))));
        PeerResponse list = call(PeerRequest.of(PeerConstants.LIST_OBJ, 0, 0, 0, 0, 0)).check();
        assertEquals(1, list.payload().readInt());
        assertEquals(oid, list.payload().readLong());
        list.release();

        call(PeerRequest.of(PeerConstants.ZERO_OBJ, 0, 0, oid, 4096, 10)).check().release();
        PeerResponse zeroed = call(PeerRequest.of(PeerConstants.READ_OBJ, 0, 0, oid, 4096, 20)).check();
        byte[] expect = new byte[20];
        System.arraycopy(data, 10, expect, 10, 10);
        assertArrayEquals(expect, ByteBufUtil.getBytes(zeroed.payload()));
        zeroed.release();

        // create-and-write replaces the old content entirely
        call(new PeerRequest(PeerConstants.CREATE_AND_WRITE_OBJ, 0, 0, 0, oid, 0, 0,
                Unpooled.wrappedBuffer(new byte[] {9, 9}))).check().release();
        PeerResponse fresh = call(PeerRequest.of(PeerConstants.READ_OBJ, 0, 0, oid, 0, 8192)).check();
        byte[] expectFresh = new byte[8192];
        expectFresh[0] = 9;
        expectFresh[1] = 9;
        assertArrayEquals(expectFresh, ByteBufUtil.getBytes(fresh.payload()));
        fresh.release();

        call(PeerRequest.of(PeerConstants.FLUSH, 0, 0, 0, 0, 0)).check().release();
        assertEquals(1, flag(call(PeerRequest.of(PeerConstants.REMOVE_OBJ, 0, 0, oid, 0, 0))));
        assertEquals(0, flag(call(PeerRequest.of(PeerConstants.EXISTS_OBJ, 0, 0, oid, 0, 0))));
        assertEquals(0, flag(call(PeerRequest.of(PeerConstants.REMOVE_OBJ, 0, 0, oid, 0, 0))));
    }

    @Test
    void manyPipelinedRequestsAllMatchTheirResponses() {
        int n = 200;
        List<CompletableFuture<PeerResponse>> writes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] d = ByteBufUtil.decodeHexDump(String.format("%08x", i));
            writes.add(client.send(new PeerRequest(PeerConstants.WRITE_OBJ, 0, 0, 0, 1000 + i, 0, 0, Unpooled.wrappedBuffer(d))));
        }
        writes.forEach(f -> f.join().check().release());
        List<CompletableFuture<PeerResponse>> reads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            reads.add(client.send(PeerRequest.of(PeerConstants.READ_OBJ, 0, 0, 1000 + i, 0, 4)));
        }
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            PeerResponse r = reads.get(i).join().check();
            assertEquals(i, r.payload().readInt());
            assertTrue(ids.add(r.id()));
            r.release();
        }
        assertEquals(0, client.inFlight());
    }

    @Test
    void errorsComeBackAsStatusAndMessage() {
        PeerResponse unknown = call(PeerRequest.of(0x7e, 0, 0, 0, 0, 0));
        assertEquals(Status.UNSUPPORTED, unknown.status());
        assertTrue(unknown.errorMessage().contains("unknown opcode"), unknown.errorMessage());
        unknown.release();

        PeerResponse tooBig = call(PeerRequest.of(PeerConstants.READ_OBJ, 0, 0, 1, 0, PeerConstants.MAX_PAYLOAD + 1));
        assertEquals(Status.TOO_BIG, tooBig.status());
        tooBig.release();

        ByteBuf name = Unpooled.buffer();
        new WireWriter(name).string("nope");
        PeerResponse notFormatted = call(PeerRequest.withPayload(PeerConstants.VDI_LIST, 0, 0, 0, 0, name));
        assertEquals(Status.NOT_FORMATTED, notFormatted.status());
        KelpieException e = assertThrows(KelpieException.class, notFormatted::check);
        assertTrue(e.getMessage().contains("not formatted"));
        notFormatted.release();
    }

    @Test
    void inFlightRequestsFailWhenTheNodeGoesAway() throws Exception {
        List<CompletableFuture<PeerResponse>> pending = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            pending.add(client.send(PeerRequest.of(PeerConstants.READ_OBJ, 0, 0, i, 0, 1 << 20)));
        }
        node.close();
        int failed = 0;
        for (CompletableFuture<PeerResponse> f : pending) {
            try {
                f.get(10, TimeUnit.SECONDS).release();
            } catch (java.util.concurrent.ExecutionException ex) {
                assertEquals(Status.IO_ERROR, KelpieException.statusOf(ex));
                failed++;
            }
        }
        assertTrue(client.inFlight() == 0);
        CompletionException after = assertThrows(CompletionException.class,
                () -> client.send(PeerRequest.of(PeerConstants.FLUSH, 0, 0, 0, 0, 0)).join());
        assertTrue(KelpieException.messageOf(after).contains("connection"), KelpieException.messageOf(after));
        assertTrue(failed >= 0);
        node = new Node(new NodeOptions(dir, "127.0.0.1", 0, 0, List.of(), null, 0, 0, 4)).start(); // for @AfterEach
    }

    @Test
    void connectFailureNamesTheAddress() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        KelpieException e = assertThrows(KelpieException.class,
                () -> PeerClient.connect("127.0.0.1:" + port, group, Duration.ofSeconds(5)));
        assertEquals("cannot connect to node at 127.0.0.1:" + port + ": Connection refused", e.getMessage());
    }

    private static int flag(PeerResponse r) {
        try {
            return r.check().payload().readByte();
        } finally {
            r.release();
        }
    }
}
