package io.kelpie.recovery;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongToIntFunction;

/**
 * What one background recovery pass must do on this node, computed from what every live member
 * holds (LIST_VERSIONS) and the ring of the epoch: a pure function, so that tests can check it
 * with plain maps. Like Sheepdog's prepare_object_list: an object this node should hold under the
 * new ring is fetched when its local version is below the highest one any live node has.
 *
 * @param tasks    objects to fetch, in object id order
 * @param current  objects this node should hold and already holds at the highest version
 * @param notOwned objects this node holds but is not a replica of (deleted once all have recovered)
 * @param orphans  listed objects whose VDI this node does not know (skipped: copies unknown)
 */
public record RecoveryPlan(List<Task> tasks, List<Long> current, List<Long> notOwned, int orphans) {

    /** What one node holds: object id to version. */
    public record Listing(NodeInfo node, Map<Long, Long> versions) {
    }

    /**
     * One object to fetch.
     *
     * @param version the highest version a live node holds
     * @param sources the holders of {@code version}, in ring order: an older copy is never taken,
     *                since it would be reported recovered while still behind
     */
    public record Task(long oid, long version, List<NodeInfo> sources) {
    }

    /**
     * @param self     this node
     * @param ring     the ring of the epoch being recovered
     * @param local    this node's objects and versions
     * @param others   every other live member's listing (members that did not answer: left out)
     * @param copiesOf copies of an object's VDI, 0 when unknown
     */
    public static RecoveryPlan compute(NodeInfo self, Ring ring, Map<Long, Long> local, List<Listing> others,
                                       LongToIntFunction copiesOf) {
        Set<Long> all = new LinkedHashSet<>(local.keySet());
        for (Listing l : others) {
            all.addAll(l.versions().keySet());
        }
        List<Long> sorted = new ArrayList<>(all);
        sorted.sort(Long::compareUnsigned);
        // Ring order of members, so that equal versions are fetched from nearer nodes first.
        Map<String, Integer> order = new HashMap<>();
        for (int i = 0; i < ring.nodes().size(); i++) {
            order.put(ring.nodes().get(i).id(), i);
        }
        List<Task> tasks = new ArrayList<>();
        List<Long> current = new ArrayList<>();
        List<Long> notOwned = new ArrayList<>();
        int orphans = 0;
        for (long oid : sorted) {
            int copies = copiesOf.applyAsInt(oid);
            long mine = local.getOrDefault(oid, 0L);
            if (copies <= 0) {
                orphans++;
                continue;
            }
            boolean replica = ring.replicas(oid, copies).stream().anyMatch(n -> n.id().equals(self.id()));
            if (!replica) {
                if (mine > 0) {
                    notOwned.add(oid);
                }
                continue;
            }
            List<Map.Entry<NodeInfo, Long>> newer = new ArrayList<>();
            for (Listing l : others) {
                long v = l.versions().getOrDefault(oid, 0L);
                if (v > mine) {
                    newer.add(Map.entry(l.node(), v));
                }
            }
            if (newer.isEmpty()) {
                if (mine > 0) {
                    current.add(oid);
                }
                continue;
            }
            long best = newer.stream().mapToLong(Map.Entry::getValue).max().getAsLong();
            List<NodeInfo> sources = newer.stream().filter(e -> e.getValue() == best).map(Map.Entry::getKey)
                    .sorted(Comparator.comparing(n -> order.getOrDefault(n.id(), Integer.MAX_VALUE))).toList();
            tasks.add(new Task(oid, best, sources));
        }
        return new RecoveryPlan(List.copyOf(tasks), List.copyOf(current), List.copyOf(notOwned), orphans);
    }

    /**
     * Which of this node's not-owned objects may be deleted now: those every current replica holds
     * at least at this node's version (so no copy, and no write it has, is lost by deleting it).
     */
    public static List<Long> deletable(Ring ring, List<Long> notOwned, Map<Long, Long> local,
                                       Map<String, Map<Long, Long>> byNode, LongToIntFunction copiesOf) {
        List<Long> out = new ArrayList<>();
        for (long oid : notOwned) {
            int copies = copiesOf.applyAsInt(oid);
            long mine = local.getOrDefault(oid, 0L);
            if (copies <= 0 || mine == 0) {
                continue;
            }
            List<NodeInfo> replicas = ring.replicas(oid, copies);
            if (replicas.size() < copies) {
                continue; // fewer zones than copies: keep every copy there is
            }
            boolean safe = true;
            for (NodeInfo r : replicas) {
                Map<Long, Long> theirs = byNode.get(r.id());
                if (theirs == null || theirs.getOrDefault(oid, 0L) < mine) {
                    safe = false;
                    break;
                }
            }
            if (safe) {
                out.add(oid);
            }
        }
        return out;
    }
}
