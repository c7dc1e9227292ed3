package io.kelpie.peer;

import io.kelpie.common.Status;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Payloads above PeerFrameDecoder.LARGE are gathered as they arrive, in any pieces: a response's
 * into one buffer of its own, a request's as slices of the reads (no copy).
 */
class LargeFrameTest {
    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    /** Two responses (4 MiB and 16 bytes) encoded back to back, as one byte array. */
    private static byte[] wire(byte[] big, byte[] small) {
        EmbeddedChannel enc = new EmbeddedChannel(PeerEncoder.INSTANCE);
        enc.writeOutbound(new PeerResponse(PeerConstants.FETCH_OBJ, Status.OK, 3, 1, Unpooled.wrappedBuffer(big)));
        enc.writeOutbound(new PeerResponse(PeerConstants.FETCH_OBJ, Status.OK, 3, 2, Unpooled.wrappedBuffer(small)));
        CompositeByteBuf all = Unpooled.compositeBuffer();
        for (ByteBuf b; (b = enc.readOutbound()) != null; ) {
            all.addComponent(true, b);
        }
        byte[] out = ByteBufUtil.getBytes(all);
        all.release();
        return out;
    }

    @Test
    void aLargePayloadArrivingInOddPiecesDecodesWhole() {
        byte[] big = random(4 << 20);
        byte[] small = random(16);
        byte[] w = wire(big, small);
        EmbeddedChannel ch = new EmbeddedChannel(new PeerResponseDecoder());
        // pieces that split the header, the payload and the next frame's header anywhere
        for (int pos = 0, step = 1; pos < w.length; step = step * 7 % 100_003 + 1) {
            int n = Math.min(step, w.length - pos);
            ch.writeInbound(Unpooled.wrappedBuffer(w, pos, n));
            pos += n;
        }
        PeerResponse first = ch.readInbound();
        PeerResponse second = ch.readInbound();
        try {
            assertEquals(1, first.id());
            assertArrayEquals(big, ByteBufUtil.getBytes(first.payload()));
            assertEquals(2, second.id());
            assertArrayEquals(small, ByteBufUtil.getBytes(second.payload()));
        } finally {
            first.release();
            second.release();
        }
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void aConnectionClosedMidPayloadReleasesItsBuffer() {
        byte[] w = wire(random(1 << 20), random(1));
        ByteBuf[] large = new ByteBuf[1];
        EmbeddedChannel ch = new EmbeddedChannel(new PeerResponseDecoder());
        ch.config().setAllocator(new AbstractByteBufAllocator(true) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                ByteBuf b = UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
                if (initialCapacity >= 1 << 20) {
                    large[0] = b;
                }
                return b;
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        });
        ch.writeInbound(Unpooled.wrappedBuffer(w, 0, 300_000));
        assertNull(ch.readInbound(), "not whole yet");
        assertEquals(1, large[0].refCnt(), "the payload's own buffer, filling");
        ch.finishAndReleaseAll();
        assertEquals(0, large[0].refCnt(), "released with the connection");
    }

    @Test
    void aLargeRequestIsComposedOfTheReadsWithoutACopy() {
        byte[] big = random(1 << 20);
        EmbeddedChannel enc = new EmbeddedChannel(PeerEncoder.INSTANCE);
        enc.writeOutbound(new PeerRequest(PeerConstants.WRITE_OBJ, 0, 3, 1, 42, 4096, 0, Unpooled.wrappedBuffer(big)));
        enc.writeOutbound(new PeerRequest(PeerConstants.FLUSH, 0, 3, 2, 0, 0, 0, Unpooled.EMPTY_BUFFER));
        CompositeByteBuf all = Unpooled.compositeBuffer();
        for (ByteBuf b; (b = enc.readOutbound()) != null; ) {
            all.addComponent(true, b);
        }
        byte[] w = ByteBufUtil.getBytes(all);
        all.release();
        EmbeddedChannel ch = new EmbeddedChannel(new PeerRequestDecoder());
        ByteBuf[] reads = new ByteBuf[64];
        int count = 0;
        for (int pos = 0, step = 999; pos < w.length; step = step * 3 % 65_521 + 1) {
            int n = Math.min(step, w.length - pos);
            reads[count] = Unpooled.directBuffer(n).writeBytes(w, pos, n);
            ch.writeInbound(reads[count++]);
            pos += n;
        }
        PeerRequest write = ch.readInbound();
        PeerRequest flush = ch.readInbound();
        try {
            assertEquals(42, write.oid());
            assertEquals(4096, write.offset());
            assertArrayEquals(big, ByteBufUtil.getBytes(write.payload()));
            assertTrue(write.payload() instanceof CompositeByteBuf c && c.numComponents() > 1, "slices of the reads");
            assertEquals(PeerConstants.FLUSH, flush.opcode());
        } finally {
            write.release();
            flush.release();
        }
        assertFalse(ch.finish());
        for (int i = 0; i < count; i++) {
            assertEquals(0, reads[i].refCnt(), "read " + i + " released with the request");
        }
    }
}
