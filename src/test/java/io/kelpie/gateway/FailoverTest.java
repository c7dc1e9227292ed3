package io.kelpie.gateway;

import io.kelpie.node.MiniCluster;
import io.kelpie.node.Node;
import io.kelpie.vdi.Vdi;
import io.kelpie.vdi.VdiBytes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real nodes in one JVM: a replica dies under a stream of writes, and no write waits or is lost. */
@Timeout(180)
class FailoverTest {
    private static final int MiB = 1 << 20;
    private static final int CHUNK = 256 << 10;
    private static final int SLOTS = 64; // 16 MiB of the VDI, over 4 objects
    private static final long BUDGET_MILLIS = 5_500; // the gateway's 5 s, plus scheduling slack

    @TempDir
    Path root;

    @Test
    void aReplicaKilledMidWriteLoopDelaysNoWriteBeyondTheBudgetAndLosesNothing() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false); // min-copies 2
            c.awaitSettled(10_000);
            c.node(0).vdis().create("disk", 64L * MiB, 0);
            Vdi v = c.node(0).vdis().open("disk");
            Map<Integer, byte[]> acked = new ConcurrentHashMap<>();
            AtomicInteger done = new AtomicInteger();
            AtomicLong slowest = new AtomicLong();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < 240; i++) {
                        int slot = (i * 7) % SLOTS;
                        byte[] data = VdiBytes.random(CHUNK, i);
                        long start = System.nanoTime();
                        ByteBuf buf = Unpooled.wrappedBuffer(data);
                        try {
                            v.write((long) slot * CHUNK, buf, (i & 3) == 0).join();
                        } finally {
                            buf.release();
                        }
                        slowest.accumulateAndGet((System.nanoTime() - start) / 1_000_000, Math::max);
                        acked.put(slot, data);
                        done.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            }, "writer");
            writer.start();
            MiniCluster.await("40 writes", 60_000, () -> done.get() >= 40 || failed.get() != null);
            c.kill(2);
            writer.join(120_000);
            if (failed.get() != null) {
                throw new AssertionError("a write failed after " + done.get() + " writes", failed.get());
            }
            assertTrue(slowest.get() < BUDGET_MILLIS, "the slowest write took " + slowest.get() + " ms");
            v.close();
            for (Node n : c.running()) {
                for (Map.Entry<Integer, byte[]> e : acked.entrySet()) {
                    assertArrayEquals(e.getValue(), VdiBytes.read(n.vdis(), "disk", (long) e.getKey() * CHUNK, CHUNK),
                            "slot " + e.getKey() + " read through " + n.selfInfo());
                }
            }

            // The dead node comes back: reads through every node are quick and see the last writes.
            c.restart(2);
            c.awaitSettled(20_000);
            for (Node n : c.running()) {
                long start = System.nanoTime();
                for (Map.Entry<Integer, byte[]> e : acked.entrySet()) {
                    assertArrayEquals(e.getValue(), VdiBytes.read(n.vdis(), "disk", (long) e.getKey() * CHUNK, CHUNK),
                            "slot " + e.getKey() + " read through " + n.selfInfo() + " after the restart");
                }
                long took = (System.nanoTime() - start) / 1_000_000;
                assertTrue(took < BUDGET_MILLIS, "reading through " + n.selfInfo() + " took " + took + " ms");
            }
        });
    }
}
