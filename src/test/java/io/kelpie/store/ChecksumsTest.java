package io.kelpie.store;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChecksumsTest {
    private static final int B = Checksums.BLOCK;

    private static ByteBuffer[] cut(byte[] content, int... cuts) {
        ByteBuffer[] pieces = new ByteBuffer[cuts.length - 1];
        for (int i = 0; i < pieces.length; i++) {
            // each piece a view into the middle of a larger buffer: position and limit must be honoured
            ByteBuffer b = ByteBuffer.allocateDirect(cuts[i + 1] - cuts[i] + 20);
            b.position(7).put(content, cuts[i], cuts[i + 1] - cuts[i]).limit(b.position()).position(7);
            pieces[i] = b;
        }
        return pieces;
    }

    @Test
    void aBlockAcrossPiecesHasTheEntryOfTheSameBytesInOne() {
        byte[] content = new byte[3 * B];
        new Random(5).nextBytes(content);
        ByteBuffer whole = ByteBuffer.wrap(content);
        ByteBuffer[] pieces = cut(content, 0, 100, 100, 4000, 5000, 3 * B); // an empty piece too
        // block 1 starts in piece 3 (at its byte 96) and ends in piece 4
        assertEquals(Checksums.blockEntry(whole, 1), Checksums.spanningEntry(pieces, 3, 7 + 96));
        // block 0 starts at piece 0's first byte and spans four pieces
        assertEquals(Checksums.blockEntry(whole, 0), Checksums.spanningEntry(pieces, 0, 7));
        for (ByteBuffer p : pieces) {
            assertEquals(7, p.position(), "positions stay");
        }
        assertEquals(7 + 100, pieces[0].limit(), "limits stay");
    }

    @Test
    void aZeroBlockAcrossPiecesHasEntryZero() {
        ByteBuffer[] pieces = cut(new byte[2 * B], 0, 10, B + 1, 2 * B);
        assertEquals(0, Checksums.spanningEntry(pieces, 0, 7));
        assertEquals(0, Checksums.spanningEntry(pieces, 1, 7 + B - 10));
    }
}
