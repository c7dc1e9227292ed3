package io.kelpie.gateway;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.Status;
import io.kelpie.common.KelpieException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A replicated gateway on node 0 of {@code n} fake nodes, each with its own {@link ReplicaStore}:
 * node 0's is the local store, the others are served by {@link FakeNodes} behind a
 * {@link FaultyTransport}. Short timeouts keep the tests quick.
 */
final class GatewayHarness implements AutoCloseable {
    static final GatewayTimeouts TIMEOUTS = new GatewayTimeouts(Duration.ofMillis(1500), Duration.ofMillis(300),
            Duration.ofMillis(400), Duration.ofSeconds(2));

    final List<NodeInfo> nodes = new ArrayList<>();
    final List<ReplicaStore> stores = new ArrayList<>();
    final ExecutorService executor = Executors.newFixedThreadPool(4);
    final FakeNodes remote = new FakeNodes(executor);
    final FaultyTransport net = new FaultyTransport(remote);
    final FakeCluster cluster;
    final ReplicatedGateway gateway;
    /** Objects the local repair hook was asked to repair. */
    final List<Long> localRepairs = new CopyOnWriteArrayList<>();
    volatile Status localRepairResult = Status.UNSUPPORTED;

    GatewayHarness(int n, int copies, int minCopies, long epoch) {
        for (int i = 0; i < n; i++) {
            nodes.add(new NodeInfo("n" + i, "127.0.0.1", 7000 + 10 * i, null, 64, 0));
            ReplicaStore s = new ReplicaStore();
            stores.add(s);
            if (i > 0) {
                remote.add(nodes.get(i).address(), s);
            }
        }
        cluster = new FakeCluster(nodes.get(0), copies, minCopies, epoch, nodes);
        LocalGateway local = new LocalGateway(stores.get(0), executor, UnpooledByteBufAllocator.DEFAULT);
        gateway = new ReplicatedGateway(cluster, local, net, executor,
                oid -> {
                    localRepairs.add(oid);
                    Status st = localRepairResult;
                    return st == Status.OK ? CompletableFuture.completedFuture(null)
                            : CompletableFuture.failedFuture(new KelpieException(st, "local repair: " + st));
                }, TIMEOUTS);
    }

    NodeInfo node(int i) {
        return nodes.get(i);
    }

    String address(int i) {
        return nodes.get(i).address();
    }

    /** Index of a node in {@link #nodes}. */
    int indexOf(NodeInfo n) {
        return nodes.indexOf(n);
    }

    /** The first object id (from {@code start}) whose replicas, in ring order, satisfy {@code ok}. */
    long oidWhere(int copies, java.util.function.Predicate<List<NodeInfo>> ok) {
        for (long oid = 1; oid < 100_000; oid++) {
            if (ok.test(gateway.replicas(oid, copies))) {
                return oid;
            }
        }
        throw new AssertionError("no object id fits");
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    void write(long oid, int copies, long offset, byte[] data) {
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        try {
            gateway.write(oid, copies, offset, buf, false).join();
        } finally {
            buf.release();
        }
    }

    byte[] read(long oid, int copies, long offset, int length) {
        ByteBuf buf = gateway.read(oid, copies, offset, length).join();
        try {
            byte[] out = new byte[buf.readableBytes()];
            buf.readBytes(out);
            return out;
        } finally {
            buf.release();
        }
    }

    static void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
