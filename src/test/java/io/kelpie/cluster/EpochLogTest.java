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
    void epochIsU32() {
        assertThrows(IllegalArgumentException.class, () -> new Epoch(1L << 32, 0, List.of()));
        new Epoch(0xFFFFFFFFL, 0, List.of());
    }
}
