package io.kelpie.gateway;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.store.FaultyStore;
import io.kelpie.store.FileObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which writes the one-node gateway does on the caller's thread, and that they land like the others. */
class LocalGatewayTest {
    @TempDir
    Path dir;

    /** An I/O executor that runs nothing until told: a task still queued proves the write did not run inline. */
    private static final class Held implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        void drain() {
            for (Runnable r; (r = tasks.poll()) != null; ) {
                r.run();
            }
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] read(LocalGateway g, Held io, long oid, long offset, int length) {
        CompletableFuture<ByteBuf> f = g.read(oid, 1, offset, length);
        io.drain();
        ByteBuf buf = f.join();
        try {
            byte[] out = new byte[length];
            buf.getBytes(buf.readerIndex(), out);
            return out;
        } finally {
            buf.release();
        }
    }

    @Test
    void smallWritesToAnOpenObjectCompleteOnTheCallersThread() throws Exception {
        Held io = new Held();
        try (FileObjectStore store = new FileObjectStore(dir)) {
            LocalGateway g = new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT);
            byte[] first = random(8192, 1);
            CompletableFuture<Void> create = g.write(5, 1, 0, Unpooled.wrappedBuffer(first), false);
            assertFalse(create.isDone(), "an absent object is created on an I/O thread");
            io.drain();
            create.join();

            byte[] small = random(4096, 2);
            ByteBuf direct = Unpooled.directBuffer().writeBytes(small); // the caller's, as Gateway says
            CompletableFuture<Void> inline = g.write(5, 1, 4096, direct, false);
            assertTrue(inline.isDone() && io.tasks.isEmpty(), "a 4 KiB page-cache write runs inline");
            inline.join();
            direct.release();

            CompletableFuture<Void> sync = g.write(5, 1, 0, Unpooled.wrappedBuffer(small), true);
            assertFalse(sync.isDone(), "a FUA write waits for its fsync on an I/O thread");
            io.drain();
            sync.join();

            byte[] big = random(LocalGateway.INLINE_WRITE_MAX + 4096, 3);
            CompletableFuture<Void> large = g.write(5, 1, 8192, Unpooled.wrappedBuffer(big), false);
            assertFalse(large.isDone(), "a large write goes to an I/O thread");
            io.drain();
            large.join();

            byte[] expect = new byte[8192 + big.length];
            System.arraycopy(small, 0, expect, 0, 4096);
            System.arraycopy(small, 0, expect, 4096, 4096);
            System.arraycopy(big, 0, expect, 8192, big.length);
            assertArrayEquals(expect, read(g, io, 5, 0, expect.length));
            assertEquals(4, store.version(5), "one version per write, inline or not");
        }
    }

    @Test
    void aFailedInlineWriteFailsItsFutureWithAnIoError() throws Exception {
        Held io = new Held();
        try (FileObjectStore file = new FileObjectStore(dir)) {
            FaultyStore faulty = new FaultyStore(file);
            LocalGateway g = new LocalGateway(faulty, io, PooledByteBufAllocator.DEFAULT);
            CompletableFuture<Void> create = g.write(6, 1, 0, Unpooled.wrappedBuffer(random(4096, 4)), false);
            io.drain();
            create.join();
            faulty.failWrites(oid -> oid == 6);
            CompletableFuture<Void> f = g.write(6, 1, 0, Unpooled.wrappedBuffer(random(4096, 5)), false);
            assertTrue(f.isCompletedExceptionally() && io.tasks.isEmpty(), "failed inline, not retried on a thread");
            assertEquals(Status.IO_ERROR, KelpieException.statusOf(f.handle((v, e) -> e).join()));
        }
    }
}
