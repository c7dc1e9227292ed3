package io.kelpie.nbd;

import io.kelpie.fuzz.WireCase;
import io.kelpie.nbd.NbdHandshakeFuzzTest.Bytes;
import io.kelpie.nbd.NbdHandshakeFuzzTest.Flags;
import io.kelpie.nbd.NbdHandshakeFuzzTest.Msg;
import io.kelpie.nbd.NbdHandshakeFuzzTest.Opt;
import io.kelpie.nbd.NbdHandshakeFuzzTest.Raw;
import io.kelpie.nbd.NbdRequestDecoderFuzzTest.Req;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static io.kelpie.nbd.NbdConstants.*;
import static io.kelpie.nbd.NbdHandshakeFuzzTest.handshake;
import static io.kelpie.nbd.NbdHandshakeFuzzTest.opt;
import static io.kelpie.nbd.NbdRequestDecoderFuzzTest.decodesIntactPrefix;
import static io.kelpie.nbd.NbdRequestDecoderFuzzTest.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The hostile inputs of native-tests/malformed.sh, replayed in-process through the fuzz properties'
 * checks (intact frames or a clean close, no stray exception, nothing leaked), each with the
 * outcome it must have.
 */
class NbdMalformedCorpusTest {
    @BeforeAll
    static void listen() {
        NbdHandshakeFuzzTest.listen();
    }

    @AfterAll
    static void unlisten() {
        NbdHandshakeFuzzTest.unlisten();
    }

    /** The hostile handshakes of native-tests/malformed.sh, through the same checks in-process. */
    @Test
    void hostileHandshakes() {
        Flags fixed = new Flags(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        List<Msg> flood = new ArrayList<>(List.of(new Flags(NBD_FLAG_C_FIXED_NEWSTYLE)));
        for (int i = 0; i < 2000; i++) {
            flood.add(new Opt(0x7777, new byte[0], false));
        }
        byte[] junk = new byte[4096];
        new SplittableRandom(10).nextBytes(junk);
        Req read = new Req(0, NBD_CMD_READ, 1, 0, 512, new byte[0]);
        List<WireCase<Msg>> corpus = List.of(
                // random garbage instead of client flags, unknown client flags
                new WireCase<>(List.of(new Bytes(junk)), WireCase.Mutation.NONE, new int[0]),
                new WireCase<>(List.of(new Flags(-1)), WireCase.Mutation.NONE, new int[0]),
                // a bad option magic; a 4 GiB option
                new WireCase<>(List.of(fixed, opt(NBD_OPT_GO, Unpooled.EMPTY_BUFFER, false)),
                        new WireCase.Mutation(WireCase.Kind.SET, 1, 0, 0xde, new byte[0]), new int[0]),
                new WireCase<>(List.of(fixed, opt(NBD_OPT_GO, Unpooled.EMPTY_BUFFER, false)),
                        new WireCase.Mutation(WireCase.Kind.FIELD, 1, 12, -1, new byte[0]), new int[0]),
                // an unknown option with data, an unknown export, GO lengths that do not add up, then a GO
                new WireCase<>(List.of(fixed, new Opt(0x7777, new byte[1000], false),
                        opt(NBD_OPT_GO, NbdHandshakeHandlerTest.infoData("nope"), false),
                        opt(NBD_OPT_GO, Unpooled.buffer().writeInt(100).writeBytes("short".getBytes()), false),
                        opt(NBD_OPT_GO, NbdHandshakeHandlerTest.infoData("disk"), true), new Raw(read)),
                        WireCase.Mutation.NONE, new int[]{3, 17, 1000}),
                // an option flood
                new WireCase<>(flood, WireCase.Mutation.NONE, new int[0]),
                // an EXPORT_NAME cut short, and requests cut short after a GO
                new WireCase<>(List.of(fixed, opt(NBD_OPT_GO, Unpooled.buffer().writeInt(6).writeBytes("vic".getBytes()), false)),
                        new WireCase.Mutation(WireCase.Kind.TRUNCATE, 1, 19, 0, new byte[0]), new int[0]),
                new WireCase<>(List.of(fixed, opt(NBD_OPT_GO, NbdHandshakeHandlerTest.infoData("disk"), true), new Raw(read)),
                        new WireCase.Mutation(WireCase.Kind.TRUNCATE, 2, 27, 0, new byte[0]), new int[]{5}));
        List<NbdHandshakeFuzzTest.Outcome> want = List.of(new NbdHandshakeFuzzTest.Outcome(0, false, false), new NbdHandshakeFuzzTest.Outcome(0, false, false),
                new NbdHandshakeFuzzTest.Outcome(0, false, false), new NbdHandshakeFuzzTest.Outcome(0, false, false), new NbdHandshakeFuzzTest.Outcome(4, true, true),
                new NbdHandshakeFuzzTest.Outcome(NbdLimits.MAX_OPTIONS, false, false), new NbdHandshakeFuzzTest.Outcome(0, false, true), new NbdHandshakeFuzzTest.Outcome(1, true, true));
        for (int i = 0; i < corpus.size(); i++) {
            assertEquals(want.get(i), handshake(corpus.get(i)), corpus.get(i).toString());
        }
    }

    /** The hostile transmission streams of native-tests/malformed.sh, through the same checks in-process. */
    @Test
    void hostileTransmissionStreams() {
        Req read = new Req(0, NBD_CMD_READ, 1, 0, 512, new byte[0]);
        Req hugeRead = new Req(0, NBD_CMD_READ, 2, 0, 0xffffffffL, new byte[0]);
        Req odd = new Req(0x100, 99, 3, 1L << 62, 512, new byte[0]);
        Req mib = write(0, 4, 0, new byte[1 << 20]);
        List<Req> reads = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            reads.add(new Req(0, NBD_CMD_READ, i, 0, 1 << 20, new byte[0]));
        }
        List<WireCase<Req>> corpus = List.of(
                // odd but well-framed requests, then a bad magic
                new WireCase<>(List.of(hugeRead, odd, write(0, 5, 16 << 20, "abcd".getBytes()), read),
                        new WireCase.Mutation(WireCase.Kind.SET, 3, 0, 0x12, new byte[0]), new int[0]),
                // a 4 GiB write, then 64 KiB of its "payload"
                new WireCase<>(List.of(write(0, 1, 0, new byte[65536])),
                        new WireCase.Mutation(WireCase.Kind.FIELD, 0, 24, -1, new byte[0]), new int[]{28}),
                // requests cut short in the header, and a 1 MiB write cut after 1000 bytes of payload
                new WireCase<>(List.of(read), new WireCase.Mutation(WireCase.Kind.TRUNCATE, 0, 5, 0, new byte[0]), new int[0]),
                new WireCase<>(List.of(read), new WireCase.Mutation(WireCase.Kind.TRUNCATE, 0, 27, 0, new byte[0]), new int[0]),
                new WireCase<>(List.of(mib), new WireCase.Mutation(WireCase.Kind.TRUNCATE, 0, 1028, 0, new byte[0]), new int[]{600}),
                // 64 reads in flight
                new WireCase<>(reads, WireCase.Mutation.NONE, new int[]{100, 1000}));
        List<NbdRequestDecoderFuzzTest.Outcome> want = List.of(new NbdRequestDecoderFuzzTest.Outcome(3, false), new NbdRequestDecoderFuzzTest.Outcome(0, false), new NbdRequestDecoderFuzzTest.Outcome(0, true),
                new NbdRequestDecoderFuzzTest.Outcome(0, true), new NbdRequestDecoderFuzzTest.Outcome(0, true), new NbdRequestDecoderFuzzTest.Outcome(64, true));
        for (int i = 0; i < corpus.size(); i++) {
            assertEquals(want.get(i), decodesIntactPrefix(corpus.get(i)), corpus.get(i).toString());
        }
    }
}
