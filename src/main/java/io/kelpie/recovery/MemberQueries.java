package io.kelpie.recovery;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.peer.ObjectMessages;
import io.kelpie.peer.ObjectMessages.Versioned;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.PeerTransport;
import io.kelpie.peer.WireReader;
import io.kelpie.recovery.RecoveryPlan.Listing;
import io.kelpie.recovery.RecoveryStatus.OfNode;
import io.kelpie.store.ObjectStore;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What recovery asks the members: every object each holds with its version (LIST_VERSIONS) and
 * how far each has recovered (NODE_RECOVERY with FLAG_LOCAL). Blocking; callers are recovery's own
 * thread or an admin worker, never an event loop.
 */
public final class MemberQueries {
    private final PeerTransport peers;
    private final ObjectStore store;

    public MemberQueries(PeerTransport peers, ObjectStore store) {
        this.peers = peers;
        this.store = store;
    }

    /** The other members' listings; {@code missing} the members that did not answer. */
    public record Versions(List<Listing> listings, List<NodeInfo> missing) {
        public Map<String, Map<Long, Long>> byNode() {
            Map<String, Map<Long, Long>> m = new HashMap<>();
            listings.forEach(l -> m.put(l.node().id(), l.versions()));
            return m;
        }
    }

    /** This node's objects with their versions. */
    public Map<Long, Long> local() throws IOException {
        Map<Long, Long> out = new HashMap<>();
        for (long oid : store.list()) {
            long v = store.version(oid);
            if (v > 0) { // removed since it was listed
                out.put(oid, v);
            }
        }
        return out;
    }

    public Versions versions(List<NodeInfo> nodes, NodeInfo self) {
        List<NodeInfo> asked = new ArrayList<>();
        List<CompletableFuture<Map<Long, Long>>> answers = new ArrayList<>();
        for (NodeInfo n : nodes) {
            if (n.id().equals(self.id())) {
                continue;
            }
            asked.add(n);
            answers.add(ask(n, PeerConstants.LIST_VERSIONS, 60, r -> {
                Map<Long, Long> m = new HashMap<>();
                for (Versioned v : ObjectMessages.readVersions(r)) {
                    m.put(v.oid(), v.version());
                }
                return m;
            }));
        }
        List<Listing> listings = new ArrayList<>();
        List<NodeInfo> missing = new ArrayList<>();
        for (int i = 0; i < asked.size(); i++) {
            Map<Long, Long> m = answers.get(i).join();
            if (m == null) {
                missing.add(asked.get(i));
            } else {
                listings.add(new Listing(asked.get(i), m));
            }
        }
        return new Versions(listings, missing);
    }

    /** Every node's recovery status, this one's from {@code mine}; null status: no answer. */
    public List<OfNode> statuses(List<NodeInfo> nodes, NodeInfo self, Supplier<RecoveryStatus> mine) {
        List<CompletableFuture<RecoveryStatus>> answers = new ArrayList<>();
        for (NodeInfo n : nodes) {
            answers.add(n.id().equals(self.id()) ? CompletableFuture.completedFuture(mine.get())
                    : ask(n, PeerConstants.NODE_RECOVERY, 5, r -> {
                        List<OfNode> theirs = RecoveryStatus.readAll(r);
                        return theirs.isEmpty() ? null : theirs.get(0).status();
                    }));
        }
        List<OfNode> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            out.add(new OfNode(nodes.get(i).id(), nodes.get(i).address(), answers.get(i).join()));
        }
        return out;
    }

    /**
     * One raw request (epoch 0, FLAG_LOCAL); completes with null on any failure or after
     * {@code seconds} (a late answer is still parsed, and released, by the handle stage).
     */
    private <T> CompletableFuture<T> ask(NodeInfo n, int opcode, long seconds, Function<WireReader, T> parse) {
        return peers.send(n.address(), PeerRequest.of(opcode, PeerConstants.FLAG_LOCAL, 0, 0, 0, 0))
                .handle((resp, err) -> {
                    if (err != null) {
                        return null;
                    }
                    try {
                        return resp.ok() ? parse.apply(new WireReader(resp.payload())) : null;
                    } catch (RuntimeException e) {
                        return null;
                    } finally {
                        resp.release();
                    }
                }).completeOnTimeout(null, seconds, TimeUnit.SECONDS);
    }
}
