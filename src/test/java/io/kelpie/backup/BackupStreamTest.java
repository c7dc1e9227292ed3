package io.kelpie.backup;

import io.kelpie.backup.BackupFormat.Header;
import io.kelpie.backup.BackupFormat.Snap;
import io.kelpie.backup.BackupFormat.Summary;
import io.kelpie.common.KelpieException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackupStreamTest {
    private static final int OBJ = 1 << 22;
    private static final Header INC = new Header("vm", 3L * OBJ, OBJ, new Snap(0x10, 1, "s1", 1000), new Snap(0x11, 2, "s2", 2000));

    private static byte[] stream(Header h, long[] offsets, byte[][] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BackupWriter w = new BackupWriter(out, h);
        for (int i = 0; i < offsets.length; i++) {
            w.record(offsets[i], data[i], 0, data[i].length);
        }
        w.finish();
        return out.toByteArray();
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private final long[] offsets = {4096, OBJ + 8192, 2L * OBJ};
    private final byte[][] data = {random(4096, 1), random(12288, 2), random(OBJ, 3)};

    @Test
    void roundTripsHeaderAndRecords() throws IOException {
        byte[] s = stream(INC, offsets, data);
        BackupReader r = new BackupReader(new ByteArrayInputStream(s));
        assertEquals(INC, r.header());
        List<BackupReader.Record> got = new ArrayList<>();
        for (BackupReader.Record rec = r.next(); rec != null; rec = r.next()) {
            got.add(rec);
        }
        assertEquals(3, got.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(offsets[i], got.get(i).offset());
            assertArrayEquals(data[i], got.get(i).data());
        }
        assertNull(r.next());
        Summary sum = BackupReader.validate(new ByteArrayInputStream(s));
        assertEquals(3, sum.records());
        assertEquals(4096 + 12288 + OBJ, sum.bytes());
        Header full = new Header("vm", 3L * OBJ, OBJ, null, new Snap(0x11, 2, "", 2000));
        assertEquals(full, BackupReader.validate(new ByteArrayInputStream(stream(full, new long[0], new byte[0][]))).header());
    }

    @Test
    void everyCorruptByteIsRefused() throws IOException {
        byte[] s = stream(INC, new long[] {4096, OBJ}, new byte[][] {random(4096, 4), random(100, 5)});
        // flip one bit at every position: header, record headers, data, crcs, end marker, digest
        for (int i = 0; i < s.length; i++) {
            byte[] bad = s.clone();
            bad[i] ^= 0x10;
            KelpieException e = assertThrows(KelpieException.class, () -> BackupReader.validate(new ByteArrayInputStream(bad)),
                    "a flipped bit at byte " + i + " of " + s.length + " was accepted");
            assertTrue(e.getMessage().startsWith("backup stream refused: "), e.getMessage());
        }
    }

    @Test
    void everyTruncationIsRefusedAndTrailingBytesToo() throws IOException {
        byte[] s = stream(INC, new long[] {4096, OBJ}, new byte[][] {random(4096, 6), random(100, 7)});
        for (int n = 0; n < s.length; n++) {
            byte[] cut = Arrays.copyOf(s, n);
            assertThrows(KelpieException.class, () -> BackupReader.validate(new ByteArrayInputStream(cut)),
                    "a stream cut at " + n + " of " + s.length + " bytes was accepted");
        }
        byte[] longer = Arrays.copyOf(s, s.length + 1);
        assertThrows(KelpieException.class, () -> BackupReader.validate(new ByteArrayInputStream(longer)));
    }

    @Test
    void recordsOutOfBoundsOrAcrossObjectsAreRefused() throws IOException {
        for (long off : new long[] {3L * OBJ - 100, OBJ - 100}) {
            byte[] s = stream(INC, new long[] {off}, new byte[][] {random(4096, 8)});
            assertThrows(KelpieException.class, () -> BackupReader.validate(new ByteArrayInputStream(s)), "offset " + off);
        }
    }

    @Test
    void blockDiffFindsChangedRunsOnly() {
        byte[] from = random(OBJ, 9);
        byte[] to = from.clone();
        to[5] ^= 1;              // block 0
        to[4096 * 2] ^= 1;       // blocks 2 and 3: one run
        to[4096 * 3 + 7] ^= 1;
        to[OBJ - 1] ^= 1;        // the last block
        assertEquals(List.of(new BlockDiff.Run(0, 4096), new BlockDiff.Run(8192, 8192), new BlockDiff.Run(OBJ - 4096, 4096)),
                BlockDiff.runs(from, to));
        assertEquals(List.of(), BlockDiff.runs(from, from.clone()));
        byte[] sparse = new byte[OBJ];
        sparse[4096 * 10 + 1] = 1;
        assertEquals(List.of(new BlockDiff.Run(40960, 4096)), BlockDiff.runs(null, sparse), "a full backup leaves out zeros");
        assertEquals(List.of(new BlockDiff.Run(0, 100)), BlockDiff.runs(new byte[100], random(100, 10)), "a short last object");
    }
}
