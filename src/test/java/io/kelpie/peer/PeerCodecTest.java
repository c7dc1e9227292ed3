package io.kelpie.peer;

import io.kelpie.common.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeerCodecTest {
    /** WRITE_OBJ, flags SYNC, epoch 7, id 0x0102030405060708, oid 0x8000..01, offset 4096, length 0, data "abc". */
    private static final String WRITE_FIXTURE = "4b4c5051" + "0081" + "0001" + "0000000000000007" + "0102030405060708"
            + "8000000000000001" + "0000000000001000" + "00000000" + "00000003" + "616263";
    /** A NO_VDI response to VDI_LIST with id 9, epoch 1 and message "no VDI named 'x'". */
    private static final String ERROR_RESPONSE_FIXTURE = "4b4c5052" + "0011" + "0003" + "0000000000000001" + "0000000000000009"
            + "00000012" + "0010" + hex("no VDI named 'x'");

    private static String hex(String s) {
        return ByteBufUtil.hexDump(s.getBytes(StandardCharsets.UTF_8));
    }

    private static ByteBuf bytes(String hex) {
        return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
    }

    @Test
    void encodesRequestToTheDocumentedLayout() {
        EmbeddedChannel ch = new EmbeddedChannel(PeerEncoder.INSTANCE);
        PeerRequest req = new PeerRequest(PeerConstants.WRITE_OBJ, PeerConstants.FLAG_SYNC, 7, 0x0102030405060708L,
                0x8000000000000001L, 4096, 0, Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII));
        assertTrue(ch.writeOutbound(req));
        assertEquals(WRITE_FIXTURE, drainHex(ch));
        assertEquals(0, req.refCnt());
        assertFalse(ch.finish());
    }

    @Test
    void decodesRequestFixture() {
        EmbeddedChannel ch = new EmbeddedChannel(new PeerRequestDecoder());
        assertTrue(ch.writeInbound(bytes(WRITE_FIXTURE)));
        PeerRequest req = ch.readInbound();
        try {
            assertEquals(PeerConstants.WRITE_OBJ, req.opcode());
            assertTrue(req.hasFlag(PeerConstants.FLAG_SYNC));
            assertEquals(7, req.epoch());
            assertEquals(0x0102030405060708L, req.id());
            assertEquals(0x8000000000000001L, req.oid());
            assertEquals(4096, req.offset());
            assertEquals("abc", req.payload().toString(StandardCharsets.US_ASCII));
        } finally {
            req.release();
        }
        assertFalse(ch.finish());
    }

    @Test
    void decodesRequestsSplitAtEveryByte() {
        byte[] two = ByteBufUtil.decodeHexDump(WRITE_FIXTURE + WRITE_FIXTURE);
        EmbeddedChannel ch = new EmbeddedChannel(new PeerRequestDecoder());
        for (byte b : two) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        for (int i = 0; i < 2; i++) {
            PeerRequest req = ch.readInbound();
            assertEquals(0x0102030405060708L, req.id());
            assertEquals("abc", req.payload().toString(StandardCharsets.US_ASCII));
            req.release();
        }
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void decodesSeveralPipelinedRequestsInOneBuffer() {
        EmbeddedChannel client = new EmbeddedChannel(PeerEncoder.INSTANCE);
        for (int i = 0; i < 5; i++) {
            client.writeOutbound(PeerRequest.of(PeerConstants.READ_OBJ, 0, 3, 100 + i, i * 512L, 512));
        }
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = client.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        EmbeddedChannel server = new EmbeddedChannel(new PeerRequestDecoder());
        server.writeInbound(all);
        for (int i = 0; i < 5; i++) {
            PeerRequest r = server.readInbound();
            assertEquals(PeerConstants.READ_OBJ, r.opcode());
            assertEquals(100 + i, r.oid());
            assertEquals(i * 512L, r.offset());
            assertEquals(512, r.length());
            assertEquals(0, r.payload().readableBytes());
            r.release();
        }
        assertFalse(server.finish());
    }

    @Test
    void responseRoundTripAndErrorMessageFixture() {
        EmbeddedChannel ch = new EmbeddedChannel(new PeerResponseDecoder());
        ch.writeInbound(bytes(ERROR_RESPONSE_FIXTURE));
        PeerResponse r = ch.readInbound();
        assertEquals(Status.NO_VDI, r.status());
        assertEquals(9, r.id());
        assertEquals(PeerConstants.VDI_LIST, r.opcode());
        assertEquals("no VDI named 'x'", r.errorMessage());
        r.release();

        EmbeddedChannel enc = new EmbeddedChannel(PeerEncoder.INSTANCE);
        PeerRequest req = new PeerRequest(PeerConstants.VDI_LIST, 0, 0, 9, 0, 0, 0, Unpooled.EMPTY_BUFFER);
        enc.writeOutbound(PeerResponse.error(req, 1, Status.NO_VDI, "no VDI named 'x'"));
        assertEquals(ERROR_RESPONSE_FIXTURE, drainHex(enc));
        assertFalse(enc.finish());
        assertFalse(ch.finish());
    }

    @Test
    void epochsBeyond32BitsRoundTripInBothHeaders() {
        long epoch = (1L << 33) + 5;
        EmbeddedChannel enc = new EmbeddedChannel(PeerEncoder.INSTANCE);
        enc.writeOutbound(PeerRequest.of(PeerConstants.READ_OBJ, 0, epoch, 1, 0, 512));
        PeerRequest q = new PeerRequest(PeerConstants.READ_OBJ, 0, epoch, 9, 1, 0, 512, Unpooled.EMPTY_BUFFER);
        enc.writeOutbound(PeerResponse.ok(q, epoch + 1));
        ByteBuf req = enc.readOutbound();
        ByteBuf resp = enc.readOutbound();
        assertEquals(PeerConstants.REQUEST_HEADER_SIZE, req.readableBytes());
        assertEquals(PeerConstants.RESPONSE_HEADER_SIZE, resp.readableBytes());
        EmbeddedChannel server = new EmbeddedChannel(new PeerRequestDecoder());
        server.writeInbound(req);
        PeerRequest got = server.readInbound();
        assertEquals(epoch, got.epoch());
        got.release();
        EmbeddedChannel client = new EmbeddedChannel(new PeerResponseDecoder());
        client.writeInbound(resp);
        PeerResponse r = client.readInbound();
        assertEquals(epoch + 1, r.epoch());
        assertEquals(9, r.id());
        r.release();
        assertFalse(server.finish());
        assertFalse(client.finish());
        assertFalse(enc.finish());
    }

    @Test
    void badMagicClosesTheConnectionAndDropsTheRest() {
        EmbeddedChannel ch = new EmbeddedChannel(new PeerRequestDecoder());
        String bad = "deadbeef" + WRITE_FIXTURE.substring(8);
        ch.writeInbound(bytes(bad));
        assertNull(ch.readInbound());
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void oversizedPayloadLengthClosesTheConnection() {
        String huge = WRITE_FIXTURE.substring(0, 88) + String.format("%08x", PeerConstants.MAX_PAYLOAD + 1);
        EmbeddedChannel ch = new EmbeddedChannel(new PeerRequestDecoder());
        ch.writeInbound(bytes(huge));
        assertNull(ch.readInbound());
        assertFalse(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void truncatedFrameYieldsNothingAndLeaksNothing() {
        EmbeddedChannel ch = new EmbeddedChannel(new PeerRequestDecoder());
        ch.writeInbound(bytes(WRITE_FIXTURE.substring(0, WRITE_FIXTURE.length() - 2)));
        assertNull(ch.readInbound());
        assertTrue(ch.isOpen());
        assertFalse(ch.finish());
    }

    @Test
    void payloadIsASliceNotACopy() {
        ByteBuf input = bytes(WRITE_FIXTURE);
        EmbeddedChannel ch = new EmbeddedChannel(new PeerRequestDecoder());
        ch.writeInbound(input);
        PeerRequest req = ch.readInbound();
        byte[] got = ByteBufUtil.getBytes(req.payload());
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), got);
        assertTrue(req.payload().unwrap() != null, "payload should be a retained slice of the input");
        req.release();
        assertFalse(ch.finish());
    }

    @Test
    void wireStringsAndNumbersRoundTrip() {
        ByteBuf b = Unpooled.buffer();
        new WireWriter(b).string("vdi-ü").i64(-5).i32(42).bool(true);
        WireReader r = new WireReader(b);
        assertEquals("vdi-ü", r.string());
        assertEquals(-5, r.i64());
        assertEquals(42, r.i32());
        assertTrue(r.bool());
        assertFalse(r.hasMore());
        b.release();
    }

    private static String drainHex(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            sb.append(ByteBufUtil.hexDump(b));
            b.release();
        }
        return sb.toString();
    }
}
