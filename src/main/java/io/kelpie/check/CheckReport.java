package io.kelpie.check;

import io.kelpie.peer.AdminMessages;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;

import java.util.ArrayList;
import java.util.List;

/**
 * The result of a check: one line per repair and per problem left, and the counts. Travels as the
 * payload of VDI_CHECK and CLUSTER_CHECK:
 *
 * <pre>
 * i32 vdis, i64 objects, i32 nodes, i64 repaired, i64 unrepairable, i64 extras removed, i64 extras left,
 * i32 n, n x (u8 kind, u64 oid, string node, string text)
 * </pre>
 */
public record CheckReport(int vdis, long objects, int nodes, long repaired, long unrepairable, long extrasRemoved,
                          long extrasLeft, List<Line> lines) {

    public enum Kind {
        /** A replica was brought up to the best copy. */
        REPAIRED("repaired"),
        /** A problem the check could not fix: the result is not consistent. */
        UNREPAIRABLE("unrepairable"),
        /** A copy on a node that is not a replica was removed. */
        REMOVED("removed"),
        /** A copy on a node that is not a replica was left (recovery still running, or a replica is not good). */
        EXTRA_LEFT("extra");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One event; {@code text} is the whole line as printed. */
    public record Line(Kind kind, long oid, String node, String text) {
    }

    /** Every object's replicas agree with its best copy (extras left over do not make it inconsistent). */
    public boolean consistent() {
        return unrepairable == 0;
    }

    public String summary() {
        return "checked " + objects + " object" + (objects == 1 ? "" : "s") + " of " + vdis + " VDI" + (vdis == 1 ? "" : "s")
                + " on " + nodes + " node" + (nodes == 1 ? "" : "s") + ": " + repaired + " repaired, " + unrepairable
                + " unrepairable" + (extrasRemoved > 0 ? ", " + extrasRemoved + " extra copies removed" : "")
                + (extrasLeft > 0 ? ", " + extrasLeft + " extra copies left" : "")
                + "; " + (consistent() ? "consistent" : "NOT consistent");
    }

    public void write(WireWriter w) {
        w.i32(vdis).i64(objects).i32(nodes).i64(repaired).i64(unrepairable).i64(extrasRemoved).i64(extrasLeft);
        w.i32(lines.size());
        for (Line l : lines) {
            w.i32(l.kind().ordinal()).i64(l.oid()).string(l.node()).string(l.text());
        }
    }

    public static CheckReport read(WireReader r) {
        int vdis = r.i32();
        long objects = r.i64();
        int nodes = r.i32();
        long repaired = r.i64();
        long unrepairable = r.i64();
        long removed = r.i64();
        long left = r.i64();
        int n = AdminMessages.count(r);
        List<Line> lines = new ArrayList<>(n);
        Kind[] kinds = Kind.values();
        for (int i = 0; i < n; i++) {
            int k = r.i32();
            lines.add(new Line(k >= 0 && k < kinds.length ? kinds[k] : Kind.UNREPAIRABLE, r.i64(), r.string(), r.string()));
        }
        return new CheckReport(vdis, objects, nodes, repaired, unrepairable, removed, left, List.copyOf(lines));
    }
}
