package io.kelpie.vdi;

import io.kelpie.gateway.Gateway;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.MemoryObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The catalogue never waits behind storage: while one VDI's inode read is stuck (a replica that
 * does not answer), catalogue ops (what the ordered cluster thread applies) and other VDIs' opens
 * go on.
 */
class VdiManagerConcurrencyTest {
    ExecutorService io;
    ExecutorService callers;
    VdiManager vdis;
    volatile long stuckOid = -1;
    final CompletableFuture<Void> unstick = new CompletableFuture<>();

    @BeforeEach
    void setUp() {
        io = Executors.newFixedThreadPool(2);
        callers = Executors.newCachedThreadPool();
        Gateway local = new LocalGateway(new MemoryObjectStore(), io, PooledByteBufAllocator.DEFAULT);
        Gateway stalling = new Gateway() {
            @Override
            public CompletableFuture<ByteBuf> read(long oid, int copies, long offset, int length) {
                return oid == stuckOid ? unstick.thenCompose(v -> local.read(oid, copies, offset, length))
                        : local.read(oid, copies, offset, length);
            }

            @Override
            public CompletableFuture<Void> write(long oid, int copies, long offset, ByteBuf data, boolean sync) {
                return local.write(oid, copies, offset, data, sync);
            }

            @Override
            public CompletableFuture<Void> create(long oid, int copies, long offset, ByteBuf data, boolean sync) {
                return local.create(oid, copies, offset, data, sync);
            }

            @Override
            public CompletableFuture<Void> zero(long oid, int copies, long offset, long length, boolean sync) {
                return local.zero(oid, copies, offset, length, sync);
            }

            @Override
            public CompletableFuture<Void> remove(long oid, int copies) {
                return local.remove(oid, copies);
            }

            @Override
            public CompletableFuture<Void> flush() {
                return local.flush();
            }

            @Override
            public void close() {
            }
        };
        vdis = new VdiManager(stalling, PooledByteBufAllocator.DEFAULT, 1, 22);
    }

    @AfterEach
    void tearDown() {
        unstick.complete(null);
        vdis.close();
        callers.shutdownNow();
        io.shutdownNow();
    }

    @Test
    void catalogueOpsAndOtherVdisDoNotWaitForAStuckInodeRead() throws Exception {
        Inode slow = vdis.create("slow", 1 << 20, 0);
        vdis.create("fast", 1 << 20, 0);
        stuckOid = slow.inodeOid();
        CompletableFuture<Vdi> stuckOpen = CompletableFuture.supplyAsync(() -> vdis.open("slow"), callers);
        CompletableFuture<?> stuckListing = CompletableFuture.supplyAsync(() -> vdis.allocatedObjects("slow"), callers);

        // What the cluster thread does, and another VDI's open, complete while the read is stuck.
        CompletableFuture<Object> applied = CompletableFuture.supplyAsync(
                () -> vdis.apply(CatalogueOp.create("third", 1 << 20, 0, 1)), callers);
        assertEquals("third", ((Inode) applied.get(5, TimeUnit.SECONDS)).name());
        Vdi fast = CompletableFuture.supplyAsync(() -> vdis.open("fast"), callers).get(5, TimeUnit.SECONDS);
        assertEquals(3, vdis.list().size());
        assertFalse(stuckOpen.isDone());
        assertFalse(stuckListing.isDone());

        unstick.complete(null);
        Vdi s = stuckOpen.get(5, TimeUnit.SECONDS);
        stuckListing.get(5, TimeUnit.SECONDS);
        assertEquals("slow", s.name());
        s.close();
        fast.close();
    }
}
