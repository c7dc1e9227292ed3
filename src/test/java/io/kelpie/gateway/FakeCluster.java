package io.kelpie.gateway;

import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;
import io.kelpie.config.ClusterConfig;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A cluster a test moves by hand: publish a placement (a new epoch, a refusal), and waiters see it. */
final class FakeCluster implements ClusterView {
    private final NodeInfo self;
    private final int copies;
    private final int minCopies;
    private volatile Placement placement;
    private final List<CompletableFuture<Placement>> waiters = new CopyOnWriteArrayList<>();

    FakeCluster(NodeInfo self, int copies, int minCopies, long epoch, List<NodeInfo> members) {
        this.self = self;
        this.copies = copies;
        this.minCopies = minCopies;
        this.placement = new Placement(epoch, new Ring(members));
    }

    synchronized void publish(Placement p) {
        placement = p;
        for (CompletableFuture<Placement> f : waiters) {
            f.complete(p);
        }
        waiters.clear();
    }

    @Override
    public NodeInfo self() {
        return self;
    }

    @Override
    public Placement placement() {
        return placement;
    }

    @Override
    public synchronized CompletableFuture<Placement> placementChanged(Placement seen) {
        CompletableFuture<Placement> f = new CompletableFuture<>();
        if (placement != seen) {
            f.complete(placement);
        } else {
            waiters.add(f);
        }
        return f;
    }

    @Override
    public int minCopiesFor(int objectCopies) {
        return new ClusterConfig(java.util.UUID.randomUUID(), 0, copies, minCopies, 22).minCopiesFor(objectCopies);
    }

    @Override
    public int copies() {
        return copies;
    }
}
