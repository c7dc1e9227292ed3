package io.kelpie.cluster;

import io.kelpie.cluster.ClusterListener.Standing;

/**
 * When two groups meet in one transport view (a healed partition, a resumed node, restarted nodes
 * that founded apart), which one gives way: its members leave it and join the other, taking the
 * other's state. A pure function of what both groups' members know alike (their group's state
 * and the other's HELLO), so every member of a group decides the same.
 *
 * <ul>
 * <li>A minority yields to any group that serves or is assembling.</li>
 * <li>A waiting (assembling) group yields to a serving one; of two waiting groups the one with
 *     the older history (lower latest epoch, then lower lineage) yields. The survivor adopts the
 *     newest state among its joiners, so nothing either side knew is lost.</li>
 * <li>A serving group of a formatted cluster never yields: it holds a strict majority of its
 *     last epoch, which no other group of that cluster can. Unformatted groups (no data yet)
 *     merge into the larger one (then the higher lineage), and into any formatted one.</li>
 * <li>Groups of another formatted cluster (other tag) are left alone.</li>
 * </ul>
 */
final class MergeRule {
    private MergeRule() {
    }

    static boolean yields(Standing mine, String myTag, long myClaim, int mySize, long myLineage,
                          Standing theirs, String theirTag, long theirClaim, int theirSize, long theirLineage) {
        if (!myTag.isEmpty() && !theirTag.isEmpty() && !myTag.equals(theirTag)) {
            return false;
        }
        if (theirs == Standing.MINORITY) {
            return false;
        }
        return switch (mine) {
            case MINORITY -> true;
            case WAITING -> theirs == Standing.SERVING || compare(theirClaim, theirLineage, myClaim, myLineage) > 0;
            case SERVING -> myTag.isEmpty() && theirs == Standing.SERVING
                    && (!theirTag.isEmpty() || compare(theirSize, theirLineage, mySize, myLineage) > 0);
        };
    }

    private static int compare(long a1, long a2, long b1, long b2) {
        return a1 != b1 ? Long.compare(a1, b1) : Long.compare(a2, b2);
    }
}
