package io.kelpie.peer;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.kelpie.common.Status;
import io.kelpie.fuzz.Fuzz;
import io.kelpie.fuzz.Sink;
import io.kelpie.fuzz.TrackingAllocator;
import io.kelpie.fuzz.WireCase;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Properties of the peer frame decoders under random and mutated streams cut into random pieces:
 * frames come out intact (large request payloads composed of retained slices, large response
 * payloads in one buffer of their own), a bad magic or length closes the connection without an
 * exception, and every buffer is released.
 */
class PeerDecoderFuzzTest {
    record Req(int opcode, int flags, long epoch, long id, long oid, long offset, int length, byte[] payload) {
        @Override
        public String toString() {
            return PeerConstants.opcodeName(opcode) + "(flags 0x" + Integer.toHexString(flags) + ", id " + id + ", length "
                    + length + ", payload " + payload.length + ")";
        }
    }

    record Resp(int opcode, int status, long epoch, long id, byte[] payload) {
        @Override
        public String toString() {
            return PeerConstants.opcodeName(opcode) + "-response(status " + status + ", id " + id + ", payload "
                    + payload.length + ")";
        }
    }

    static final WireCase.Codec<Req> REQUESTS = new WireCase.Codec<>() {
        @Override
        public byte[] encode(Req r) {
            return ByteBuffer.allocate(PeerConstants.REQUEST_HEADER_SIZE + r.payload.length).putInt(PeerConstants.REQUEST_MAGIC)
                    .putShort((short) r.opcode).putShort((short) r.flags).putLong(r.epoch).putLong(r.id).putLong(r.oid)
                    .putLong(r.offset).putInt(r.length).putInt(r.payload.length).put(r.payload).array();
        }

        @Override
        public List<Req> simpler(Req r) {
            return r.payload.length == 0 ? List.of() : List.of(
                    new Req(r.opcode, r.flags, r.epoch, r.id, r.oid, r.offset, r.length, new byte[0]),
                    new Req(r.opcode, r.flags, r.epoch, r.id, r.oid, r.offset, r.length,
                            Arrays.copyOf(r.payload, r.payload.length / 2)));
        }
    };

    static final WireCase.Codec<Resp> RESPONSES = new WireCase.Codec<>() {
        @Override
        public byte[] encode(Resp r) {
            return ByteBuffer.allocate(PeerConstants.RESPONSE_HEADER_SIZE + r.payload.length).putInt(PeerConstants.RESPONSE_MAGIC)
                    .putShort((short) r.opcode).putShort((short) r.status).putLong(r.epoch).putLong(r.id)
                    .putInt(r.payload.length).put(r.payload).array();
        }

        @Override
        public List<Resp> simpler(Resp r) {
            return r.payload.length == 0 ? List.of() : List.of(new Resp(r.opcode, r.status, r.epoch, r.id, new byte[0]),
                    new Resp(r.opcode, r.status, r.epoch, r.id, Arrays.copyOf(r.payload, r.payload.length / 2)));
        }
    };

    /** Mostly small payloads; now and then one past {@link PeerFrameDecoder#LARGE}, gathered as it arrives. */
    static byte[] payload(SplittableRandom r) {
        int n = switch (r.nextInt(12)) {
            case 0 -> PeerFrameDecoder.LARGE + r.nextInt(PeerFrameDecoder.LARGE);
            case 1, 2 -> r.nextInt(16 << 10);
            case 3, 4 -> 0;
            default -> r.nextInt(100);
        };
        byte[] p = new byte[n];
        r.nextBytes(p);
        return p;
    }

    static WireCase<Req> requests(SplittableRandom r, boolean mutate) {
        List<Req> f = new ArrayList<>();
        for (int i = r.nextInt(6); i > 0; i--) {
            f.add(new Req(r.nextInt(1 << 16), r.nextInt(1 << 16), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(),
                    r.nextInt(), payload(r)));
        }
        // the data length (44) and the length (40) fields
        return new WireCase<>(f, mutate ? WireCase.mutation(r, f.size(), 44, 40) : WireCase.Mutation.NONE, WireCase.pieces(r));
    }

    static WireCase<Resp> responses(SplittableRandom r, boolean mutate) {
        List<Resp> f = new ArrayList<>();
        for (int i = r.nextInt(6); i > 0; i--) {
            int status = r.nextBoolean() ? r.nextInt(24) : r.nextInt(1 << 16);
            f.add(new Resp(r.nextInt(1 << 16), status, r.nextLong(), r.nextLong(), payload(r)));
        }
        return new WireCase<>(f, mutate ? WireCase.mutation(r, f.size(), 24) : WireCase.Mutation.NONE, WireCase.pieces(r));
    }

    private static final Logger DECODER_LOG = (Logger) LoggerFactory.getLogger(PeerFrameDecoder.class);
    private static Level level;

    /** Thousands of expected "closing peer connection" warnings would bury a real finding. */
    @BeforeAll
    static void quiet() {
        level = DECODER_LOG.getLevel();
        DECODER_LOG.setLevel(Level.ERROR);
    }

    @AfterAll
    static void unquiet() {
        DECODER_LOG.setLevel(level);
    }

    @Test
    void validRequestStreamsSplitAnywhereDecodeToTheSameRequests() {
        Fuzz.check("peer valid request streams", 200, r -> requests(r, false), c -> c.shrink(REQUESTS),
                c -> decodesIntactPrefix(c, REQUESTS, PeerRequestDecoder::new, PeerDecoderFuzzTest::sameRequest));
    }

    @Test
    void mutatedRequestStreamsDecodeTheirIntactPrefixThenCloseOrWait() {
        Fuzz.check("peer mutated request streams", 400, r -> requests(r, true), c -> c.shrink(REQUESTS),
                c -> decodesIntactPrefix(c, REQUESTS, PeerRequestDecoder::new, PeerDecoderFuzzTest::sameRequest));
    }

    @Test
    void validResponseStreamsSplitAnywhereDecodeToTheSameResponses() {
        Fuzz.check("peer valid response streams", 200, r -> responses(r, false), c -> c.shrink(RESPONSES),
                c -> decodesIntactPrefix(c, RESPONSES, PeerResponseDecoder::new, PeerDecoderFuzzTest::sameResponse));
    }

    @Test
    void mutatedResponseStreamsDecodeTheirIntactPrefixThenCloseOrWait() {
        Fuzz.check("peer mutated response streams", 400, r -> responses(r, true), c -> c.shrink(RESPONSES),
                c -> decodesIntactPrefix(c, RESPONSES, PeerResponseDecoder::new, PeerDecoderFuzzTest::sameResponse));
    }

    static <F> void decodesIntactPrefix(WireCase<F> c, WireCase.Codec<F> codec, Supplier<ChannelHandler> decoder,
                                        BiConsumer<F, Object> same) {
        WireCase.Wire w = c.wire(codec);
        TrackingAllocator alloc = new TrackingAllocator();
        Sink sink = new Sink();
        EmbeddedChannel ch = Sink.channel(alloc, decoder.get(), sink);
        try {
            Sink.feed(ch, WireCase.split(w.bytes(), c.pieces(), alloc));
            // the decoders close on a bad frame themselves: nothing may reach the pipeline's end
            sink.errors.forEach(t -> {
                throw new AssertionError("unexpected " + t, t);
            });
            int intact = w.intactFrames();
            assertTrue(sink.messages.size() >= intact, "only " + sink.messages.size() + " of " + intact + " intact frames decoded");
            for (int i = 0; i < intact; i++) {
                same.accept(c.frames().get(i), sink.messages.get(i));
            }
            if (c.mutation().kind() == WireCase.Kind.NONE || w.truncated()) {
                assertEquals(intact, sink.messages.size(), "frames decoded beyond the bytes sent");
                assertTrue(ch.isOpen(), "a valid stream closed the connection");
            }
        } finally {
            sink.releaseAll();
            ch.finishAndReleaseAll();
        }
        alloc.assertAllReleased(c);
    }

    static void sameRequest(Req want, Object o) {
        PeerRequest got = (PeerRequest) o;
        assertEquals(want.opcode, got.opcode());
        assertEquals(want.flags, got.flags());
        assertEquals(want.epoch, got.epoch());
        assertEquals(want.id, got.id());
        assertEquals(want.oid, got.oid());
        assertEquals(want.offset, got.offset());
        assertEquals(want.length, got.length());
        assertArrayEquals(want.payload, ByteBufUtil.getBytes(got.payload()), want::toString);
    }

    static void sameResponse(Resp want, Object o) {
        PeerResponse got = (PeerResponse) o;
        assertEquals(want.opcode, got.opcode());
        assertEquals(Status.ofCode(want.status), got.status());
        assertEquals(want.epoch, got.epoch());
        assertEquals(want.id, got.id());
        assertArrayEquals(want.payload, ByteBufUtil.getBytes(got.payload()), want::toString);
        // a reader of a failed response's message must cope with whatever the payload is
        assertNotNull(got.errorMessage());
        if (want.payload.length >= PeerFrameDecoder.LARGE) {
            assertEquals(1, got.payload().nioBufferCount(), "a large response payload is one buffer");
        }
    }
}
