package io.kelpie.check;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.recovery.ObjectFetcher;
import io.kelpie.recovery.ObjectFetcher.Holder;
import io.kelpie.store.ObjectStore.ObjectMeta;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the check decides for one object from every member's STAT_OBJ (verified): the best copy,
 * by the same rule as recovery ({@link ObjectFetcher#bestFirst}: the newest version that
 * verifies), and what differs from it. Pure, so the rules are tested without nodes.
 *
 * <p>Of several verified copies at the newest version with different digests, the digest most
 * of them hold wins (ties: the first in ring order); the others are repaired to it, so that the
 * replicas end equal even where versions cannot tell them apart.
 *
 * @param best        the node holding the best copy; null when no copy verifies (or none exists)
 * @param repairs     ring replicas whose copy differs from the best (repair them)
 * @param extras      copies on members that are not ring replicas
 * @param unanswered  ring replicas that did not answer (cannot be checked or repaired now)
 * @param lost        why no good copy exists (some copy exists but none verifies, or no node has
 *                    the object at all); null when {@code best} is set
 */
public record ReplicaVerdict(long oid, NodeInfo best, ObjectMeta bestMeta, List<Finding> repairs, List<Finding> extras,
                             List<NodeInfo> unanswered, String lost) {

    public enum Problem {
        MISSING, OLD, BAD_BLOCKS, DIGEST, EXTRA
    }

    /** One copy that differs from the best, with the words the report prints. */
    public record Finding(NodeInfo node, Problem problem, ObjectMeta meta, String detail) {
    }

    /** Nothing to repair, remove or report. */
    public boolean clean() {
        return lost == null && repairs.isEmpty() && extras.isEmpty() && unanswered.isEmpty();
    }

    /**
     * @param ring    the object's replicas in the current epoch, in ring order
     * @param holders every member's answer (ring replicas included), in any order
     */
    public static ReplicaVerdict decide(long oid, List<NodeInfo> ring, List<Holder> holders) {
        Set<String> ringIds = new HashSet<>();
        ring.forEach(n -> ringIds.add(n.id()));
        Map<String, Holder> byId = new HashMap<>();
        holders.forEach(h -> byId.put(h.node().id(), h));
        // Ring replicas first, in ring order: equal candidates prefer a replica's copy.
        List<Holder> ordered = new ArrayList<>();
        for (NodeInfo n : ring) {
            ordered.add(byId.getOrDefault(n.id(), new Holder(n, null)));
        }
        holders.stream().filter(h -> !ringIds.contains(h.node().id())).forEach(ordered::add);

        List<NodeInfo> unanswered = ordered.stream().filter(h -> h.meta() == null && ringIds.contains(h.node().id()))
                .map(Holder::node).toList();
        Holder best = pickBest(ordered);
        List<Finding> extras = new ArrayList<>();
        for (Holder h : ordered) {
            if (!ringIds.contains(h.node().id()) && h.has()) {
                extras.add(new Finding(h.node(), Problem.EXTRA, h.meta(), "not a replica, version " + h.meta().version()));
            }
        }
        if (best == null) {
            boolean any = ordered.stream().anyMatch(Holder::has);
            String lost = any ? "no copy verifies (" + describeBad(ordered) + ")" : "no node has a copy";
            return new ReplicaVerdict(oid, null, null, List.of(), List.copyOf(extras), unanswered, lost);
        }
        ObjectMeta b = best.meta();
        List<Finding> repairs = new ArrayList<>();
        for (Holder h : ordered) {
            if (!ringIds.contains(h.node().id()) || h.meta() == null) {
                continue;
            }
            Finding f = compare(h, b);
            if (f != null) {
                repairs.add(f);
            }
        }
        return new ReplicaVerdict(oid, best.node(), b, List.copyOf(repairs), List.copyOf(extras), unanswered, null);
    }

    /** How {@code h}'s copy differs from the best one; null when it is as good. */
    static Finding compare(Holder h, ObjectMeta best) {
        ObjectMeta m = h.meta();
        if (!m.exists()) {
            return new Finding(h.node(), Problem.MISSING, m, "missing");
        }
        if (!m.verified()) {
            return new Finding(h.node(), Problem.BAD_BLOCKS, m, "bad blocks " + m.badBlocks() + " at version " + m.version());
        }
        if (m.version() < best.version()) {
            return new Finding(h.node(), Problem.OLD, m, "version " + m.version() + " < " + best.version());
        }
        if (m.version() == best.version() && m.digest() != best.digest()) {
            return new Finding(h.node(), Problem.DIGEST, m, String.format("digest %08x != %08x at version %d",
                    m.digest(), best.digest(), m.version()));
        }
        return null;
    }

    /** Whether a copy (after repair) is as good as the best: present, verified, not older, same content. */
    public static boolean matches(ObjectMeta m, ObjectMeta best) {
        if (m == null || !m.exists() || !m.verified() || m.version() < best.version()) {
            return false;
        }
        // A write that raced the check may have moved the copy on: newer is fine.
        return m.version() > best.version() || m.digest() == best.digest();
    }

    private static Holder pickBest(List<Holder> ordered) {
        List<NodeInfo> first = ObjectFetcher.bestFirst(ordered);
        if (first.isEmpty()) {
            return null;
        }
        Map<String, Holder> byId = new HashMap<>();
        ordered.forEach(h -> byId.put(h.node().id(), h));
        long top = byId.get(first.get(0).id()).meta().version();
        List<Holder> newest = first.stream().map(n -> byId.get(n.id())).filter(h -> h.meta().version() == top).toList();
        Map<Integer, Integer> votes = new HashMap<>();
        newest.forEach(h -> votes.merge(h.meta().digest(), 1, Integer::sum));
        Holder chosen = newest.get(0);
        for (Holder h : newest) { // strictly more votes only: ties keep the earlier (ring order)
            if (votes.get(h.meta().digest()) > votes.get(chosen.meta().digest())) {
                chosen = h;
            }
        }
        return chosen;
    }

    private static String describeBad(List<Holder> ordered) {
        List<String> parts = new ArrayList<>();
        for (Holder h : ordered) {
            if (h.has()) {
                parts.add(h.node().address() + ": version " + h.meta().version() + ", bad blocks " + h.meta().badBlocks());
            }
        }
        return String.join("; ", parts);
    }
}
