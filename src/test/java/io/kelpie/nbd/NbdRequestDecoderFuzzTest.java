package io.kelpie.nbd;

import io.kelpie.fuzz.Fuzz;
import io.kelpie.fuzz.Sink;
import io.kelpie.fuzz.TrackingAllocator;
import io.kelpie.fuzz.WireCase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Properties of the transmission-phase decoder (and the validator behind it) under random and
 * mutated request streams cut into random pieces: requests come out intact or the connection
 * closes with a framing error, and every buffer is released.
 */
class NbdRequestDecoderFuzzTest {
    /** One request as the client meant it; a WRITE's length is its payload's. */
    record Req(int flags, int type, long cookie, long offset, long length, byte[] payload) {
        @Override
        public String toString() {
            return commandName(type) + "(flags 0x" + Integer.toHexString(flags) + ", cookie " + cookie + ", offset "
                    + Long.toUnsignedString(offset) + ", length " + length + ", payload " + payload.length + ")";
        }
    }

    static final WireCase.Codec<Req> CODEC = new WireCase.Codec<>() {
        @Override
        public byte[] encode(Req r) {
            return ByteBuffer.allocate(REQUEST_HEADER_SIZE + r.payload.length).putInt(NBD_REQUEST_MAGIC)
                    .putShort((short) r.flags).putShort((short) r.type).putLong(r.cookie).putLong(r.offset)
                    .putInt((int) r.length).put(r.payload).array();
        }

        @Override
        public List<Req> simpler(Req r) {
            List<Req> s = new ArrayList<>();
            if (r.payload.length > 0) {
                s.add(write(r.flags, r.cookie, r.offset, new byte[0]));
                s.add(write(r.flags, r.cookie, r.offset, Arrays.copyOf(r.payload, r.payload.length / 2)));
            }
            if (r.flags != 0 || r.cookie != 0 || r.offset != 0) {
                s.add(new Req(0, r.type, 0, 0, r.length, r.payload));
            }
            return s;
        }
    };

    static Req write(int flags, long cookie, long offset, byte[] payload) {
        return new Req(flags, NBD_CMD_WRITE, cookie, offset, payload.length, payload);
    }

    static Req request(SplittableRandom r) {
        int[] types = {NBD_CMD_READ, NBD_CMD_WRITE, NBD_CMD_WRITE, NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_DISC, NBD_CMD_CACHE,
                NBD_CMD_WRITE_ZEROES, NBD_CMD_BLOCK_STATUS, r.nextInt(1 << 16)};
        int type = types[r.nextInt(types.length)];
        int flags = r.nextInt(4) == 0 ? r.nextInt(1 << 16) : r.nextInt(NBD_CMD_FLAGS_KNOWN + 1);
        long cookie = r.nextLong();
        long offset = r.nextBoolean() ? r.nextLong(1 << 24) : r.nextLong();
        if (type == NBD_CMD_WRITE) {
            // mostly small; some above the decoder's gathering threshold, so they are composed of parts
            int n = switch (r.nextInt(10)) {
                case 0 -> NbdRequestDecoder.GATHER_THRESHOLD + r.nextInt(3 * NbdRequestDecoder.GATHER_THRESHOLD);
                case 1, 2 -> r.nextInt(8192);
                default -> r.nextInt(65);
            };
            byte[] p = new byte[n];
            r.nextBytes(p);
            return write(flags, cookie, offset, p);
        }
        return new Req(flags, type, cookie, offset, r.nextBoolean() ? r.nextInt(1 << 20) : r.nextLong(1L << 32), new byte[0]);
    }

    static WireCase<Req> stream(SplittableRandom r, boolean mutate) {
        List<Req> frames = new ArrayList<>();
        for (int i = r.nextInt(7); i > 0; i--) {
            frames.add(request(r));
        }
        // the length field (24) and the type (6, where WRITE decides whether a payload follows)
        WireCase.Mutation m = mutate ? WireCase.mutation(r, frames.size(), 24, 4) : WireCase.Mutation.NONE;
        return new WireCase<>(frames, m, WireCase.pieces(r));
    }

    @Test
    void validStreamsSplitAnywhereDecodeToTheSameRequests() {
        Fuzz.check("NBD valid request streams", 300, r -> stream(r, false), c -> c.shrink(CODEC),
                c -> decodesIntactPrefix(c));
    }

    @Test
    void mutatedStreamsDecodeTheirIntactPrefixThenCloseOrWait() {
        Fuzz.check("NBD mutated request streams", 600, r -> stream(r, true), c -> c.shrink(CODEC),
                c -> decodesIntactPrefix(c));
    }

    @Test
    void randomBytesNeverCrashOrLeak() {
        // Random junk, half of it behind a valid magic so the header fields get exercised too.
        Fuzz.check("NBD random bytes", 600, r -> {
            byte[] junk = new byte[r.nextInt(r.nextBoolean() ? 40 : 300)];
            r.nextBytes(junk);
            if (r.nextBoolean() && junk.length >= 4) {
                ByteBuffer.wrap(junk).putInt(NBD_REQUEST_MAGIC);
            }
            return new Junk(junk, WireCase.pieces(r));
        }, Junk::shrink, j -> {
            TrackingAllocator alloc = new TrackingAllocator();
            Sink sink = new Sink();
            EmbeddedChannel ch = Sink.channel(alloc, new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE), sink);
            Sink.feed(ch, WireCase.split(j.bytes(), j.pieces(), alloc));
            checkErrors(sink, ch);
            sink.messages.forEach(m -> validates((NbdRequest) m));
            sink.releaseAll();
            ch.finishAndReleaseAll();
            alloc.assertAllReleased(j);
        });
    }

    /** Raw bytes and the pieces they arrive in. */
    record Junk(byte[] bytes, int[] pieces) {
        List<Junk> shrink() {
            List<Junk> s = new ArrayList<>();
            if (pieces.length > 0) {
                s.add(new Junk(bytes, new int[0]));
            }
            for (int n = bytes.length / 2; n > 0; n /= 2) {
                s.add(new Junk(Arrays.copyOf(bytes, bytes.length - n), pieces));
                s.add(new Junk(Arrays.copyOfRange(bytes, n, bytes.length), pieces));
            }
            return s;
        }

        @Override
        public String toString() {
            return "Junk[" + ByteBufUtil.hexDump(bytes) + ", pieces=" + Arrays.toString(pieces) + "]";
        }
    }

    /** How a case ended: requests decoded, and whether the connection is still open. */
    record Outcome(int decoded, boolean open) {
    }

    static Outcome decodesIntactPrefix(WireCase<Req> c) {
        WireCase.Wire w = c.wire(CODEC);
        TrackingAllocator alloc = new TrackingAllocator();
        Sink sink = new Sink();
        EmbeddedChannel ch = Sink.channel(alloc, new NbdRequestDecoder(NbdLimits.MAX_REQUEST_SIZE), sink);
        Outcome outcome;
        try {
            Sink.feed(ch, WireCase.split(w.bytes(), c.pieces(), alloc));
            checkErrors(sink, ch);
            int intact = w.intactFrames();
            assertTrue(sink.messages.size() >= intact, "only " + sink.messages.size() + " of " + intact
                    + " intact requests decoded");
            for (int i = 0; i < intact; i++) {
                assertSame(c.frames().get(i), (NbdRequest) sink.messages.get(i), i);
            }
            if (c.mutation().kind() == WireCase.Kind.NONE || w.truncated()) {
                assertEquals(intact, sink.messages.size(), "requests decoded beyond the bytes sent");
                assertTrue(sink.errors.isEmpty() && ch.isOpen(), "a valid stream closed the connection");
            }
            sink.messages.forEach(m -> validates((NbdRequest) m));
            outcome = new Outcome(sink.messages.size(), ch.isOpen());
        } finally {
            sink.releaseAll();
            ch.finishAndReleaseAll();
        }
        alloc.assertAllReleased(c);
        return outcome;
    }

    /** Framing errors close the connection; any other exception is a decoder bug. */
    static void checkErrors(Sink sink, EmbeddedChannel ch) {
        for (Throwable t : sink.errors) {
            if (!(t instanceof CorruptedFrameException || t instanceof TooLongFrameException)) {
                throw new AssertionError("unexpected " + t, t);
            }
        }
        assertTrue(sink.errors.isEmpty() || !ch.isOpen(), "open after a framing error");
    }

    static void assertSame(Req want, NbdRequest got, int i) {
        String at = "request " + i;
        assertEquals(want.type, got.type(), at);
        assertEquals(want.flags, got.flags(), at);
        assertEquals(want.cookie, got.cookie(), at);
        assertEquals(want.offset, got.offset(), at);
        assertEquals(want.length & 0xFFFFFFFFL, got.length(), at);
        assertArrayEquals(want.type == NBD_CMD_WRITE ? want.payload : new byte[0], ByteBufUtil.getBytes(got.content()), at);
    }

    private static final NbdExport EXPORT = new NbdExport() {
        @Override
        public NbdExportInfo info() {
            return new NbdExportInfo("disk", "fuzz", 1 << 24, false);
        }

        @Override
        public void close() {
        }
    };

    /** Whatever the decoder lets through, the validator answers without throwing. */
    static void validates(NbdRequest r) {
        for (NbdSession s : new NbdSession[]{new NbdSession(EXPORT, 0, false, 0),
                new NbdSession(EXPORT, NBD_FLAG_READ_ONLY, true, 1, 2)}) {
            NbdError e = NbdRequestValidator.validate(r, s);
            assertTrue(e == null || e.message() != null, "an error without a message");
        }
    }
}
