package io.kelpie.node;

import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two nodes delete the last two clones of a deleted snapshot at the same moment: both reclaims
 * reach the snapshot's placeholder; one node at a time may reclaim it, the second after the first
 * and by what the first left, so in every order nothing is left behind.
 */
@Timeout(120)
class ReclaimClaimTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    @Test
    void concurrentDeletesInOneTreeLeaveNothing() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            VdiManager a = c.node(0).vdis();
            for (int round = 0; round < 3; round++) {
                a.create("vm", 16L * MiB, 0);
                write(a, "vm", 0, random(12 * MiB, round));
                a.snapshot("vm", "s1");
                c.node(1).vdis().cloneOf("vm@s1", "c1", 0);
                c.node(2).vdis().cloneOf("vm@s1", "c2", 0);
                write(c.node(1).vdis(), "c1", 0, random(MiB, 10 + round));
                a.delete("vm");
                a.delete("vm@s1");

                CountDownLatch go = new CountDownLatch(1);
                CompletableFuture<Void> d1 = CompletableFuture.runAsync(() -> {
                    await(go);
                    c.node(1).vdis().delete("c1");
                });
                CompletableFuture<Void> d2 = CompletableFuture.runAsync(() -> {
                    await(go);
                    c.node(2).vdis().delete("c2");
                });
                go.countDown();
                d1.get(60, TimeUnit.SECONDS);
                d2.get(60, TimeUnit.SECONDS);
                for (Node n : c.running()) {
                    // the deletes are ordered: every node applies them, the others maybe a moment later
                    MiniCluster.await("round " + round + ": deletes applied on " + n.selfInfo(), 10_000,
                            () -> n.vdis().all().isEmpty() && n.vdis().pendingReclaims().isEmpty());
                    assertEquals(List.of(), n.vdis().all(), "round " + round + ": catalogue of " + n.selfInfo());
                    assertEquals(List.of(), n.vdis().pendingReclaims());
                    assertEquals(List.of(), n.store().list(), "round " + round + ": objects left on " + n.selfInfo());
                }
            }
        });
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
