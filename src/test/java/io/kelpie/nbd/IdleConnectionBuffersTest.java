package io.kelpie.nbd;

import io.kelpie.fuzz.Sink;
import io.kelpie.fuzz.TrackingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * An idle connection costs the node no buffer: between options of the handshake, and between
 * requests in transmission, everything the connection read or wrote has been released. This is
 * what keeps 1000 idle clients at a few KiB each ({@code native-tests/many-connections.sh}).
 * Every inbound byte comes from the tracking allocator, so a cumulation buffer kept for the next
 * message would show as a live buffer.
 */
class IdleConnectionBuffersTest {
    private final TrackingAllocator alloc = new TrackingAllocator();
    private final TestExports exports = new TestExports().add("disk", 1 << 20, false);
    private EmbeddedChannel ch;

    @AfterEach
    void close() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
        exports.requests.forEach(NbdRequest::release);
    }

    /** Reads and releases what the server wrote; returns how many bytes that was. */
    private int drainOutbound() {
        ch.runPendingTasks();
        int n = 0;
        for (Object o; (o = ch.readOutbound()) != null; ) {
            n += o instanceof ByteBuf b ? b.readableBytes() : 0;
            ReferenceCountUtil.release(o);
        }
        return n;
    }

    private void send(ByteBuf b) {
        ch.writeInbound(b);
        ch.runPendingTasks();
    }

    private ByteBuf option(int opt, byte[] data) {
        return alloc.buffer().writeLong(IHAVEOPT).writeInt(opt).writeInt(data.length).writeBytes(data);
    }

    @Test
    void aSilentOrNegotiatingConnectionHoldsNoBuffer() {
        ch = Sink.channel(alloc, new NbdHandshakeHandler(exports));
        assertEquals(18, drainOutbound(), "the greeting");
        alloc.assertAllReleased("a connection that sent nothing");
        send(alloc.buffer().writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
        send(option(NBD_OPT_STRUCTURED_REPLY, new byte[0]));
        send(option(0x7777, "x".repeat(1000).getBytes(StandardCharsets.UTF_8))); // unsupported: an error reply
        assertTrue(drainOutbound() > 0, "two option replies");
        assertTrue(ch.isOpen());
        alloc.assertAllReleased("a connection between options");
    }

    @Test
    void anIdleConnectionInTransmissionHoldsNoBuffer() {
        ch = Sink.channel(alloc, new NbdHandshakeHandler(exports));
        drainOutbound();
        send(alloc.buffer().writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
        send(option(NBD_OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8)));
        assertEquals(10, drainOutbound(), "size and flags, no zeroes");
        assertEquals(1, exports.opened);
        byte[] payload = new byte[100_000]; // larger than the decoder gathers: composed from slices
        new java.util.Random(7).nextBytes(payload);
        ByteBuf write = alloc.buffer().writeInt(NBD_REQUEST_MAGIC).writeShort(0).writeShort(NBD_CMD_WRITE)
                .writeLong(1).writeLong(4096).writeInt(payload.length);
        send(write);
        for (int off = 0; off < payload.length; off += 30_000) { // in pieces, as from a socket
            send(alloc.buffer().writeBytes(payload, off, Math.min(30_000, payload.length - off)));
        }
        send(alloc.buffer().writeInt(NBD_REQUEST_MAGIC).writeShort(0).writeShort(NBD_CMD_READ)
                .writeLong(2).writeLong(0).writeInt(512));
        assertEquals(2, exports.requests.size());
        assertArrayEquals(payload, io.netty.buffer.ByteBufUtil.getBytes(exports.requests.get(0).content()));
        assertEquals(NBD_CMD_READ, exports.requests.get(1).type());
        assertTrue(ch.isOpen());
        alloc.assertAllReleased("a connection between requests");
    }
}
