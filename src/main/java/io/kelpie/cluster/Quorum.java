package io.kelpie.cluster;

import io.kelpie.cluster.ClusterListener.Standing;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Quorum, precisely: a group may serve while the members it reaches (in the transport view and
 * confirmed at the same point of its history) are a strict majority of the nodes of its last
 * epoch. Only a serving group makes new epochs, so the last epoch is always the last one that had
 * quorum, and two disjoint groups can never both serve. Before format (no epochs) the basis is
 * the group's own member list. {@code cluster recover force} replaces the basis with the nodes
 * its sender reached, until an epoch of just those nodes exists.
 *
 * <p>A group restarted from local state waits instead, until every node of its last epoch has
 * joined (or recovery is forced), since any of them may hold the newest writes.
 */
final class Quorum {
    private Quorum() {
    }

    record Verdict(Standing standing, String refusal) {
    }

    static Verdict judge(Epoch last, boolean waiting, Set<String> forced, List<NodeInfo> members, List<NodeInfo> reachable) {
        if (last == null) {
            return majority(members, ids(reachable), "the cluster's " + members.size() + " node(s)", members);
        }
        if (waiting) {
            List<NodeInfo> missing = missing(last, members);
            return new Verdict(Standing.WAITING, "waiting for node(s) " + addresses(missing) + " of epoch " + last.number()
                    + "; run 'kelpie cluster recover force' to go on without them");
        }
        if (forced != null && !forced.isEmpty()) {
            List<NodeInfo> basis = members.stream().filter(m -> forced.contains(m.id())).toList();
            return majority(basis, ids(reachable), "the " + forced.size() + " node(s) recovery was forced to", basis);
        }
        return majority(last.members(), ids(reachable), "the " + last.members().size() + " node(s) of epoch " + last.number(),
                last.members());
    }

    private static Verdict majority(List<NodeInfo> basis, Set<String> reachable, String what, List<NodeInfo> all) {
        List<NodeInfo> seen = all.stream().filter(n -> reachable.contains(n.id())).toList();
        if (seen.size() * 2 > basis.size()) {
            return new Verdict(Standing.SERVING, null);
        }
        List<NodeInfo> gone = all.stream().filter(n -> !reachable.contains(n.id())).toList();
        return new Verdict(Standing.MINORITY, "no quorum: this node sees " + seen.size() + " of " + what
                + " (sees " + addresses(seen) + "; missing " + addresses(gone) + "); writes and catalogue changes wait"
                + " for a majority");
    }

    /** The nodes of the epoch that are not members now. */
    static List<NodeInfo> missing(Epoch last, List<NodeInfo> members) {
        Set<String> present = ids(members);
        return last.members().stream().filter(n -> !present.contains(n.id())).toList();
    }

    static Set<String> ids(List<NodeInfo> nodes) {
        return nodes.stream().map(NodeInfo::id).collect(Collectors.toCollection(HashSet::new));
    }

    static String addresses(List<NodeInfo> nodes) {
        return nodes.isEmpty() ? "none" : nodes.stream().map(NodeInfo::address).collect(Collectors.joining(", "));
    }
}
