package io.kelpie.recovery;

import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;

/**
 * One node's background recovery, as {@code kelpie node recovery} shows it.
 *
 * @param state        IDLE (no epoch since start), RUNNING (a pass for {@code epoch} is under way
 *                     or queued), DONE (this node holds everything it should in {@code epoch})
 * @param epoch        the epoch the state is about
 * @param rate         bytes per second over the pass so far
 * @param etaSeconds   time left at that rate, -1 when unknown
 * @param unavailable  objects no live node could deliver (logged once per pass)
 * @param staleObjects copies this node holds but no longer owns, kept until every member is done
 */
public record RecoveryStatus(State state, long epoch, long objectsDone, long objectsTotal, long bytesDone,
                             long bytesTotal, long rate, long etaSeconds, long unavailable, long staleObjects,
                             long elapsedMillis) {

    public enum State {
        IDLE, RUNNING, DONE;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static final RecoveryStatus IDLE = new RecoveryStatus(State.IDLE, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0);

    public void write(WireWriter w) {
        w.i32(state.ordinal()).i64(epoch).i64(objectsDone).i64(objectsTotal).i64(bytesDone).i64(bytesTotal).i64(rate)
                .i64(etaSeconds).i64(unavailable).i64(staleObjects).i64(elapsedMillis);
    }

    public static RecoveryStatus read(WireReader r) {
        int s = r.i32();
        State state = s >= 0 && s < State.values().length ? State.values()[s] : State.IDLE;
        return new RecoveryStatus(state, r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64(),
                r.i64());
    }

    /** One member's status in a NODE_RECOVERY answer; {@code status} null when it did not answer. */
    public record OfNode(String id, String address, RecoveryStatus status) {
        public void write(WireWriter w) {
            w.string(id).string(address).bool(status != null);
            if (status != null) {
                status.write(w);
            }
        }

        public static OfNode read(WireReader r) {
            String id = r.string();
            String address = r.string();
            return new OfNode(id, address, r.bool() ? RecoveryStatus.read(r) : null);
        }
    }

    /** NODE_RECOVERY's answer: i32 n, n x OfNode. */
    public static void writeAll(WireWriter w, java.util.List<OfNode> nodes) {
        w.i32(nodes.size());
        nodes.forEach(n -> n.write(w));
    }

    public static java.util.List<OfNode> readAll(WireReader r) {
        int n = io.kelpie.peer.AdminMessages.count(r);
        java.util.List<OfNode> out = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(OfNode.read(r));
        }
        return out;
    }

    /** Done with {@code epoch}: the test every member's cleanup (and {@code --watch}) waits for. */
    public boolean doneWith(long epoch) {
        return state == State.DONE && this.epoch == epoch;
    }
}
