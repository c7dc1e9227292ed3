package io.kelpie.cluster;

import io.kelpie.config.DataDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EpochLogTest {
    @TempDir
    Path dir;

    private static final NodeInfo A = new NodeInfo("a", "127.0.0.1", 7000, "z1", 128, 1L << 30);
    private static final NodeInfo B = new NodeInfo("b", "127.0.0.1", 7002, null, 256, 2L << 30);

    @Test
    void persistsAcrossReopen() throws IOException {
        try (DataDir d = DataDir.open(dir)) {
            EpochLog log = EpochLog.open(d);
            assertNull(log.latest());
            log.append(new Epoch(1, 1000, List.of(A)));
            log.append(new Epoch(2, 2000, List.of(A, B)));
            assertThrows(IllegalArgumentException.class, () -> log.append(new Epoch(2, 3000, List.of(A))));
        }
        try (DataDir d = DataDir.open(dir)) {
            EpochLog log = EpochLog.open(d);
            assertEquals(2, log.latestNumber());
            assertEquals(List.of(A, B), log.latest().members());
            assertEquals(List.of(A), log.get(1).members());
            assertEquals(2000, log.get(2).time());
            assertEquals("z1", log.get(2).members().get(0).zone());
            assertEquals("b", log.get(2).members().get(1).zone());
            log.replace(List.of(new Epoch(1, 5, List.of(B))));
            assertEquals(1, EpochLog.open(d).all().size());
        }
    }

    @Test
    void detectsCorruption() throws IOException {
        try (DataDir d = DataDir.open(dir)) {
            EpochLog.open(d).append(new Epoch(1, 1000, List.of(A, B)));
            Path f = dir.resolve(EpochLog.FILE);
            byte[] bytes = Files.readAllBytes(f);
            bytes[20] ^= 1;
            Files.write(f, bytes);
            IOException e = assertThrows(IOException.class, () -> EpochLog.open(d));
            assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
            Files.write(f, new byte[] {1, 2, 3});
            assertThrows(IOException.class, () -> EpochLog.open(d));
        }
    }

    @Test
    void epochsAre64BitOnDisk() throws IOException {
        long big = (1L << 40) + 7;
        try (DataDir d = DataDir.open(dir)) {
            EpochLog.open(d).append(new Epoch(big, 1000, List.of(A)));
            EpochLog.open(d).append(new Epoch(big + 1, 2000, List.of(A, B)));
            assertEquals(List.of(big, big + 1), EpochLog.open(d).all().stream().map(Epoch::number).toList());
        }
        assertThrows(IllegalArgumentException.class, () -> new Epoch(-1, 0, List.of()));
    }

    @Test
    void readsTheFirstFormatWithU32Epochs() throws IOException {
        // "KEPL", 1 record: u32 epoch 0xfffffffe, time 5, no members; then the CRC-32 as u64.
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(b);
        out.writeInt(0x4b45504c);
        out.writeInt(1);
        out.writeInt(0xfffffffe);
        out.writeLong(5);
        out.writeInt(0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b.toByteArray());
        out.writeLong(crc.getValue());
        Files.write(dir.resolve(EpochLog.FILE), b.toByteArray());
        try (DataDir d = DataDir.open(dir)) {
            EpochLog log = EpochLog.open(d);
            assertEquals(0xfffffffeL, log.latestNumber());
            log.append(new Epoch(0x100000000L, 6, List.of(A)));
            assertEquals(0x100000000L, EpochLog.open(d).latestNumber());
        }
    }
}
