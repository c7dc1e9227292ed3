package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.MemoryObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reclaim that fails half-way stays pending and a resume finishes it; one that is done is not pending. */
@Timeout(60)
class ReclaimResumeTest {
    private static final int MiB = 1 << 20;
    private static final long SIZE = 16L * MiB;

    private final ExecutorService io = Executors.newFixedThreadPool(2);
    private final MemoryObjectStore store = new MemoryObjectStore();
    /** Removes that succeed before the rest fail; negative: all succeed. */
    private final AtomicInteger removesLeft = new AtomicInteger(-1);
    /** A remove of this object waits for {@link #unblock} (-1: none). */
    private final java.util.concurrent.atomic.AtomicLong blockRemoveOf = new java.util.concurrent.atomic.AtomicLong(-1);
    private final java.util.concurrent.CountDownLatch removeHeld = new java.util.concurrent.CountDownLatch(1);
    private final CompletableFuture<Void> unblock = new CompletableFuture<>();
    private final VdiManager vdis = new VdiManager(new FailingRemoves(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT)),
            PooledByteBufAllocator.DEFAULT, 1, 22);

    @AfterEach
    void tearDown() {
        vdis.close();
        io.shutdownNow();
    }

    /** The store as the VDIs see it, with removes that fail on demand (a node going away mid-reclaim). */
    private final class FailingRemoves implements Gateway {
        private final Gateway inner;

        FailingRemoves(Gateway inner) {
            this.inner = inner;
        }

        @Override
        public CompletableFuture<ByteBuf> read(long oid, int copies, long offset, int length) {
            return inner.read(oid, copies, offset, length);
        }

        @Override
        public CompletableFuture<Void> write(long oid, int copies, long offset, ByteBuf data, boolean sync) {
            return inner.write(oid, copies, offset, data, sync);
        }

        @Override
        public CompletableFuture<Void> create(long oid, int copies, long offset, ByteBuf data, boolean sync) {
            return inner.create(oid, copies, offset, data, sync);
        }

        @Override
        public CompletableFuture<Void> zero(long oid, int copies, long offset, long length, boolean sync) {
            return inner.zero(oid, copies, offset, length, sync);
        }

        @Override
        public CompletableFuture<Void> remove(long oid, int copies) {
            if (removesLeft.getAndUpdate(n -> n > 0 ? n - 1 : n) == 0) {
                return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR, "remove failed (test)"));
            }
            if (oid == blockRemoveOf.get()) {
                removeHeld.countDown();
                return unblock.thenCompose(v -> inner.remove(oid, copies));
            }
            return inner.remove(oid, copies);
        }

        @Override
        public CompletableFuture<Void> flush() {
            return inner.flush();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @Test
    void aReclaimThatFailedHalfWayIsFinishedByAResume() throws Exception {
        Inode vm = vdis.create("vm", SIZE, 0);
        byte[] data = random(12 * MiB, 1);
        write(vdis, "vm", 0, data);
        vdis.snapshot("vm", "s1");
        vdis.cloneOf("vm@s1", "cl", 0);
        Inode cur = vdis.lookup("vm");
        write(vdis, "vm", 0, random(MiB, 2)); // object 0 of the working VDI is its own now

        removesLeft.set(1); // the first remove goes, the second fails
        vdis.delete("vm@s1"); // kept: vm and cl read every object of it
        assertEquals(List.of(), vdis.pendingReclaims(), "a reclaim that kept everything is done");
        assertThrows(KelpieException.class, () -> vdis.delete("vm"));
        // Pending: vm, and its deleted parent s1 (what vm's delete may free there, it never got to).
        assertEquals(List.of(vm.vdiId(), cur.vdiId()).stream().sorted().toList(), vdis.pendingReclaims());
        assertTrue(store.exists(cur.inodeOid()));

        removesLeft.set(-1);
        assertEquals(1, vdis.resumeReclaims());
        assertEquals(List.of(), vdis.pendingReclaims());
        assertFalse(store.exists(ObjectIds.dataOid(cur.vdiId(), 0)));
        assertFalse(store.exists(cur.inodeOid()));
        assertTrue(store.exists(ObjectIds.dataOid(vm.vdiId(), 0)), "the snapshot's object stays: the clone reads it");
        assertArrayEquals(data, read(vdis, "cl", 0, 12 * MiB));
        assertEquals(0, vdis.resumeReclaims(), "nothing left to resume");

        vdis.delete("cl");
        assertEquals(List.of(), vdis.pendingReclaims());
        assertEquals(List.of(), store.list(), "everything is gone");
    }

    @Test
    void aResumeLeavesAPlaceholderToTheDeleteOfThisNodeThatIsReclaimingIt() throws Exception {
        Inode vm = vdis.create("vm", SIZE, 0);
        write(vdis, "vm", 0, random(12 * MiB, 3));
        vdis.snapshot("vm", "s1");
        vdis.cloneOf("vm@s1", "c1", 0);
        vdis.cloneOf("vm@s1", "c2", 0);
        vdis.delete("vm");
        vdis.delete("vm@s1");
        vdis.delete("c1");
        long held = ObjectIds.dataOid(vm.vdiId(), 1);
        blockRemoveOf.set(held);
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            // The last clone goes: its delete claims s1's placeholder and is held freeing object 1.
            java.util.concurrent.Future<?> last = other.submit(() -> vdis.delete("c2"));
            assertTrue(removeHeld.await(10, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(vdis.pendingReclaims().contains(vm.vdiId()));
            // Same node, same cluster claim: the resume must still keep off it (it would free by a view that is going).
            assertEquals(0, CompletableFuture.supplyAsync(vdis::resumeReclaims).get(10, java.util.concurrent.TimeUnit.SECONDS));
            unblock.complete(null);
            last.get(10, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            other.shutdownNow();
        }
        assertEquals(List.of(), vdis.all());
        assertEquals(List.of(), vdis.pendingReclaims());
        assertEquals(List.of(), store.list(), "everything is gone");
    }
}
