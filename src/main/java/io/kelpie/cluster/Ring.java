package io.kelpie.cluster;

import io.kelpie.common.Fnv1a;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Sheepdog's consistent hashing ring over the vnodes of one epoch's member list. Immutable and a
 * pure function of that list: every node computes the same replicas for an object, and recovery
 * can compare the rings of two epochs.
 */
public final class Ring {
    private final List<NodeInfo> nodes;
    private final long[] hashes;
    private final int[] owner;
    private final int zones;

    public Ring(List<NodeInfo> members) {
        this.nodes = List.copyOf(members);
        int total = 0;
        for (NodeInfo n : nodes) {
            total += n.vnodes();
        }
        long[][] vn = new long[total][];
        int k = 0;
        Set<String> zoneSet = new HashSet<>();
        for (int i = 0; i < nodes.size(); i++) {
            NodeInfo n = nodes.get(i);
            if (n.vnodes() > 0) {
                zoneSet.add(n.zone());
            }
            long h = n.seed();
            for (int v = 0; v < n.vnodes(); v++) {
                h = Fnv1a.next(h);
                vn[k++] = new long[] {h, i};
            }
        }
        // Unsigned order, like Sheepdog's uint64_t comparison; ties (never seen in practice) by node order.
        Arrays.sort(vn, (a, b) -> {
            int c = Long.compareUnsigned(a[0], b[0]);
            return c != 0 ? c : Long.compare(a[1], b[1]);
        });
        hashes = new long[total];
        owner = new int[total];
        for (int i = 0; i < total; i++) {
            hashes[i] = vn[i][0];
            owner[i] = (int) vn[i][1];
        }
        zones = zoneSet.size();
    }

    public List<NodeInfo> nodes() {
        return nodes;
    }

    /** Number of distinct zones among nodes that hold data. */
    public int zones() {
        return zones;
    }

    public int vnodeCount() {
        return hashes.length;
    }

    /**
     * The nodes holding {@code oid}: the owner of the first vnode at or after the object's hash,
     * then further clockwise, skipping nodes whose zone was already chosen. Fewer than
     * {@code copies} when there are fewer zones; callers decide whether that is acceptable.
     */
    public List<NodeInfo> replicas(long oid, int copies) {
        int want = Math.min(copies, zones);
        List<NodeInfo> out = new ArrayList<>(want);
        if (want <= 0) {
            return out;
        }
        int start = firstAtOrAfter(Fnv1a.objectHash(oid));
        Set<String> usedZones = new HashSet<>();
        for (int step = 0; step < hashes.length && out.size() < want; step++) {
            NodeInfo n = nodes.get(owner[(start + step) % hashes.length]);
            if (usedZones.add(n.zone())) {
                out.add(n);
            }
        }
        return out;
    }

    /** The primary (first replica) of an object, or null on an empty ring. */
    public NodeInfo primary(long oid) {
        List<NodeInfo> r = replicas(oid, 1);
        return r.isEmpty() ? null : r.get(0);
    }

    private int firstAtOrAfter(long h) {
        int lo = 0;
        int hi = hashes.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(hashes[mid], h) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo == hashes.length ? 0 : lo;
    }
}
