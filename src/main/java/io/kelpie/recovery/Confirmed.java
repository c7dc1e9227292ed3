package io.kelpie.recovery;

import io.kelpie.cluster.Epoch;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.cluster.Ring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongToIntFunction;

/**
 * The objects whose local copy is known to be current in one epoch: I/O to them needs no
 * comparison with other holders, and recovery never replaces them.
 *
 * <p>A copy is current when it was compared, fetched or created in this epoch, or when it was
 * current in the epoch before and this node stayed a member and a replica of it through every
 * epoch since: then it received every write the others did. Versions alone cannot tell that
 * while writes are in flight across an epoch change (a replica that has not yet applied a
 * retried write looks behind; one that applied it twice looks ahead), and replacing such a copy
 * with another replica's could drop a write that only it and a dead node had.
 */
final class Confirmed {
    /** Past this many epochs without a restart of the chain, copies are compared again. */
    private static final int MAX_DEPTH = 64;

    private final long epoch;
    private final Set<Long> oids = ConcurrentHashMap.newKeySet();
    private final boolean all;
    private final Confirmed parent;
    /** The rings of the epochs since the parent's (for the first epoch: its own), all of which must hold an object here. */
    private final List<Ring> since;
    private final int depth;
    private final String self;
    private final LongToIntFunction copiesOf;

    private Confirmed(long epoch, boolean all, Confirmed parent, List<Ring> since, String self, LongToIntFunction copiesOf) {
        this.epoch = epoch;
        this.all = all;
        this.parent = parent;
        this.since = since;
        this.depth = parent == null ? 0 : parent.depth + 1;
        this.self = self;
        this.copiesOf = copiesOf;
    }

    static Confirmed none(String self, LongToIntFunction copiesOf) {
        return new Confirmed(-1, false, null, List.of(), self, copiesOf);
    }

    long epoch() {
        return epoch;
    }

    /**
     * The set for {@code epoch}, which follows this one: it inherits this one's objects when this
     * node was a member of every epoch in between (its own log shows them with it), and only
     * those objects it stayed a replica of. The cluster's first epoch (format) starts with every
     * object current: nothing existed before it.
     */
    Confirmed next(long epoch, List<Epoch> history) {
        if (!history.isEmpty() && history.get(0).number() == epoch) {
            return new Confirmed(epoch, true, null, List.of(new Ring(history.get(0).members())), self, copiesOf);
        }
        List<Ring> rings = new ArrayList<>();
        boolean continuous = this.epoch > 0 && depth < MAX_DEPTH && memberOf(history, this.epoch);
        long expect = this.epoch + 1;
        for (Epoch e : history) {
            if (!continuous || e.number() <= this.epoch || e.number() > epoch) {
                continue;
            }
            if (e.number() != expect || !contains(e.members())) {
                continuous = false;
                break;
            }
            rings.add(new Ring(e.members()));
            expect++;
        }
        continuous &= expect == epoch + 1;
        return continuous ? new Confirmed(epoch, false, this, List.copyOf(rings), self, copiesOf)
                : new Confirmed(epoch, false, null, List.of(), self, copiesOf);
    }

    boolean contains(long oid) {
        if (oids.contains(oid)) {
            return true;
        }
        if (parent == null && !all) {
            return false;
        }
        int copies = copiesOf.applyAsInt(oid);
        if (copies <= 0) {
            return false;
        }
        for (Ring r : since) {
            if (r.replicas(oid, copies).stream().noneMatch(n -> n.id().equals(self))) {
                return false;
            }
        }
        return all || parent.contains(oid);
    }

    void add(long oid) {
        oids.add(oid);
    }

    void addAll(Collection<Long> more) {
        oids.addAll(more);
    }

    private boolean memberOf(List<Epoch> history, long number) {
        for (Epoch e : history) {
            if (e.number() == number) {
                return contains(e.members());
            }
        }
        return false;
    }

    private boolean contains(List<NodeInfo> members) {
        return members.stream().anyMatch(n -> n.id().equals(self));
    }
}
