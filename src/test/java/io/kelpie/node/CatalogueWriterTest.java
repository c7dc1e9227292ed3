package io.kelpie.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The catalogue's background save, on a disk that is full for a while. */
@Timeout(30)
class CatalogueWriterTest {
    @Test
    void aSaveThatFailsIsTriedAgainWithoutAnotherChangeUntilItSucceeds() throws Exception {
        AtomicInteger fails = new AtomicInteger(3);
        AtomicInteger tries = new AtomicInteger();
        AtomicReference<byte[]> saved = new AtomicReference<>();
        AtomicReference<String> state = new AtomicReference<>("v1");
        CatalogueWriter w = new CatalogueWriter(() -> state.get().getBytes(StandardCharsets.UTF_8), bytes -> {
            tries.incrementAndGet();
            if (fails.getAndDecrement() > 0) {
                throw new IOException("No space left on device");
            }
            saved.set(bytes);
        }, 20);
        w.changed(); // one change, then nothing more: only the retries can save it
        state.set("v2");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (saved.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertArrayEquals("v2".getBytes(StandardCharsets.UTF_8), saved.get(), "the latest state, once the disk had room");
        assertEquals(4, tries.get());
        w.close();
        assertEquals(4, tries.get(), "nothing left to save on close");
    }

    @Test
    void closeStillEndsWhileTheDiskStaysFull() {
        AtomicInteger tries = new AtomicInteger();
        CatalogueWriter w = new CatalogueWriter(() -> new byte[1], bytes -> {
            tries.incrementAndGet();
            throw new IOException("No space left on device");
        }, 20);
        w.changed();
        w.close(); // waits for at most one more try, then the writer's thread stops
        assertTrue(tries.get() >= 1);
    }
}
