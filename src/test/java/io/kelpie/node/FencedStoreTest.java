package io.kelpie.node;

import io.kelpie.store.MemoryObjectStore;
import io.kelpie.store.ObjectStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The format's wipe runs behind a fence: it never blocks its caller, and no store call overlaps it. */
class FencedStoreTest {
    private static final byte[] DATA = "the new cluster's inode".getBytes();

    private final MemoryObjectStore memory = new MemoryObjectStore();
    /** Held shut, a call to the blocked method waits here. */
    private final CountDownLatch gate = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    private final AtomicInteger removes = new AtomicInteger();
    private volatile String blocked = "";
    private final FencedStore store = new FencedStore((ObjectStore) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] {ObjectStore.class}, (proxy, m, args) -> {
                if (m.getName().equals("remove")) {
                    removes.incrementAndGet();
                }
                if (m.getName().equals(blocked)) {
                    entered.countDown();
                    gate.await();
                }
                try {
                    return m.invoke(memory, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            }));

    @AfterEach
    void close() throws Exception {
        gate.countDown();
        store.close();
    }

    private void put(long oid, byte[] bytes) throws Exception {
        store.write(oid, 0, ByteBuffer.wrap(bytes));
    }

    private byte[] get(ObjectStore s, long oid, int length) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(length);
        assertTrue(s.read(oid, 0, b), "object " + oid + " exists");
        return b.array();
    }

    @Test
    void wipeReturnsAtOnceAndCallsMadeAfterItWaitForTheLastRemoval() throws Exception {
        for (long oid = 1; oid <= 3; oid++) {
            put(oid, ("old " + oid).getBytes());
        }
        blocked = "remove";
        // Run synchronously, the wipe would hang here on the first removal.
        CompletableFuture<Void> wiped = assertTimeoutPreemptively(Duration.ofSeconds(5), store::wipe);
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the wipe started");
        CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
            try {
                put(9, DATA);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertThrows(TimeoutException.class, () -> write.get(300, TimeUnit.MILLISECONDS), "a write behind the fence waits");
        assertFalse(memory.exists(9));
        gate.countDown();
        wiped.get(10, TimeUnit.SECONDS);
        write.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(9L), store.list(), "the old objects are gone, the new one stays");
        assertArrayEquals(DATA, get(store, 9, DATA.length));
    }

    @Test
    void aCallInFlightWhenTheFenceRisesFinishesBeforeTheFirstRemoval() throws Exception {
        put(1, DATA);
        blocked = "read";
        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
            try {
                return get(store, 1, DATA.length);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertTrue(entered.await(10, TimeUnit.SECONDS), "the read is in the store");
        CompletableFuture<Void> wiped = assertTimeoutPreemptively(Duration.ofSeconds(5), store::wipe);
        assertThrows(TimeoutException.class, () -> wiped.get(300, TimeUnit.MILLISECONDS), "the wipe waits for the read");
        assertEquals(0, removes.get());
        blocked = "";
        gate.countDown();
        assertArrayEquals(DATA, read.get(10, TimeUnit.SECONDS), "the read got the object whole");
        wiped.get(10, TimeUnit.SECONDS);
        assertEquals(List.of(), store.list());
        assertEquals(1, removes.get());
    }
}
