package io.kelpie.scrub;

import io.kelpie.store.FaultyStore;
import io.kelpie.store.FileObjectStore;
import io.kelpie.store.ObjectStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ScrubberTest {
    @TempDir
    Path dir;
    FileObjectStore store;
    Scrubber scrubber;

    @BeforeEach
    void open() throws Exception {
        store = new FileObjectStore(dir);
    }

    @AfterEach
    void close() throws Exception {
        if (scrubber != null) {
            scrubber.close();
        }
        store.close();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void findsAFlippedByteAndHandsTheObjectToRepair() throws Exception {
        for (int i = 1; i <= 3; i++) {
            store.write(i, 0, ByteBuffer.wrap(random(256 << 10, i)));
        }
        store.flush();
        FaultyStore.flipByte(store.pathOf(2), 100_000);
        List<Long> asked = new CopyOnWriteArrayList<>();
        scrubber = new Scrubber(store, 1L << 30, Duration.ofMillis(20)).repairWith(oid -> {
            asked.add(oid);
            // what recovery's repair does: install a good copy from another replica
            return CompletableFuture.runAsync(() -> {
                try {
                    store.install(oid, store.version(oid), ByteBuffer.wrap(random(256 << 10, oid)));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }).start();
        await(() -> scrubber.stats().repaired() == 1, "the repair");
        assertEquals(List.of(2L), asked);
        await(() -> scrubber.stats().passes() >= 2, "a second pass");
        assertEquals(List.of(2L), asked, "repaired once, found good since");
        Scrubber.Stats s = scrubber.stats();
        assertEquals(1, s.errors());
        assertTrue(s.objects() >= 6 && s.bytes() >= 6L * (256 << 10), s.toString());
        assertTrue(store.stat(2, true).verified());
        ByteBuffer back = ByteBuffer.allocate(256 << 10);
        store.read(2, 0, back);
        assertArrayEquals(random(256 << 10, 2), back.array());
    }

    @Test
    void withoutARepairItCountsAndLogsOnly() throws Exception {
        store.write(5, 0, ByteBuffer.wrap(random(8192, 5)));
        ObjectStore faulty = new FaultyStore(store).corrupt(5, 4096);
        scrubber = new Scrubber(faulty, 1L << 30, Duration.ofMillis(20)).start();
        await(() -> scrubber.stats().passes() >= 2, "two passes");
        Scrubber.Stats s = scrubber.stats();
        assertTrue(s.errors() >= 2, s.toString());
        assertEquals(0, s.repaired());
        assertEquals(List.of(1), store.stat(5, true).badBlocks(), "left as it was");
    }

    @Test
    void keepsToItsRate() throws Exception {
        for (int i = 1; i <= 4; i++) {
            store.write(i, 0, ByteBuffer.wrap(random(128 << 10, i)));
        }
        long start = System.nanoTime();
        scrubber = new Scrubber(store, 256 << 10, Duration.ofMillis(1)).start(); // 512 KiB: 2 s a pass
        await(() -> scrubber.stats().passes() >= 1, "a pass");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis >= 1900, "a pass of 512 KiB at 256 KiB/s took " + millis + " ms");
        assertTrue(scrubber.stats().objects() >= 4);
    }
}
