package io.kelpie.node;

import io.kelpie.check.Checker;
import io.kelpie.check.LiveView;
import io.kelpie.cluster.ClusterManager;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.ClusterConfig;
import io.kelpie.peer.PeerTransport;
import io.kelpie.peer.ops.CheckService;
import io.kelpie.peer.ops.ClusterService;
import io.kelpie.peer.ops.ObjectService;
import io.kelpie.peer.ops.PeerOps;
import io.kelpie.peer.ops.RecoveryService;
import io.kelpie.peer.ops.VdiService;
import io.kelpie.recovery.ObjectRecovery;
import io.kelpie.recovery.RecoveryStatus.OfNode;
import io.kelpie.recovery.RecoveryWorker;
import io.kelpie.store.ObjectStore;
import io.kelpie.store.ObjectStore.StoreStats;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The node's side of each group of peer ops. The peer server starts before the cluster and
 * recovery exist (the node's address comes from its bound port), so every call reads the node's
 * parts when it is made: an object op before recovery runs goes straight to the store, a recovery
 * op is refused with SHUTDOWN.
 */
final class PeerServices {
    private static final CompletableFuture<Void> NOW = CompletableFuture.completedFuture(null);

    private PeerServices() {
    }

    static PeerOps.Services of(Node node) {
        return new PeerOps.Services(objects(node), vdis(node), cluster(node), check(node), recovery(node));
    }

    private static ObjectService objects(Node node) {
        return new ObjectService() {
            @Override
            public ObjectStore store() {
                return node.store();
            }

            @Override
            public ByteBufAllocator alloc() {
                return node.alloc();
            }

            @Override
            public long epoch() {
                return node.epoch();
            }

            @Override
            public CompletableFuture<Void> ensureLocal(long oid) {
                ObjectRecovery r = node.recovery();
                return r == null ? NOW : r.ensureLocal(oid);
            }

            @Override
            public CompletableFuture<Void> claim(long oid) {
                ObjectRecovery r = node.recovery();
                return r == null ? NOW : r.claim(oid);
            }
        };
    }

    private static VdiService vdis(Node node) {
        return new VdiService() {
            @Override
            public VdiManager vdis() {
                return node.vdis();
            }

            @Override
            public List<String> holders(long oid, int copies) {
                return node.holders(oid, copies);
            }

            @Override
            public String self() {
                return node.selfInfo().toString();
            }

            @Override
            public io.kelpie.peer.PeerTransport peers() {
                return node.peers();
            }
        };
    }

    private static ClusterService cluster(Node node) {
        return new ClusterService() {
            @Override
            public void format(int copies, int minCopies, boolean force) throws IOException {
                node.format(copies, minCopies, force);
            }

            @Override
            public boolean formatted() {
                return node.formatted();
            }

            @Override
            public ClusterConfig config() {
                return node.config();
            }

            @Override
            public long epoch() {
                return node.epoch();
            }

            @Override
            public ClusterManager cluster() {
                return node.cluster();
            }

            @Override
            public NodeInfo self() {
                return node.selfInfo();
            }

            @Override
            public StoreStats localStats() throws IOException {
                return node.store().stats();
            }

            @Override
            public PeerTransport peers() {
                return node.peers();
            }
        };
    }

    private static CheckService check(Node node) {
        return new CheckService() {
            @Override
            public VdiManager vdis() {
                return node.vdis();
            }

            @Override
            public Checker checker(int parallel) {
                return new Checker(node.peers(), new LiveView(node.cluster(), node::recoveryWorker), parallel);
            }
        };
    }

    private static RecoveryService recovery(Node node) {
        return new RecoveryService() {
            @Override
            public List<OfNode> statusOfMembers(boolean localOnly) {
                RecoveryWorker worker = node.recoveryWorker();
                if (worker == null) {
                    throw notRunning();
                }
                return worker.statusOfMembers(localOnly);
            }

            @Override
            public CompletableFuture<Boolean> repair(long oid) {
                ObjectRecovery r = node.recovery();
                return r == null ? CompletableFuture.failedFuture(notRunning()) : r.repair(oid);
            }

            @Override
            public CompletableFuture<Boolean> repair(long oid, String source) {
                ObjectRecovery r = node.recovery();
                return r == null ? CompletableFuture.failedFuture(notRunning()) : r.repair(oid, source);
            }
        };
    }

    private static KelpieException notRunning() {
        return new KelpieException(Status.SHUTDOWN, "node is not running");
    }
}
