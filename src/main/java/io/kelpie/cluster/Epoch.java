package io.kelpie.cluster;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One epoch: its number (u64, 1 at format, bumped on every membership change), when it began,
 * and the members in the order the cluster admitted them. Placement in the epoch is
 * {@code new Ring(members)}.
 */
public record Epoch(long number, long time, List<NodeInfo> members) {

    public Epoch {
        if (number < 0) {
            throw new IllegalArgumentException("negative epoch: " + number);
        }
        members = List.copyOf(members);
    }

    public void writeTo(DataOutput out) throws IOException {
        out.writeLong(number);
        out.writeLong(time);
        out.writeInt(members.size());
        for (NodeInfo n : members) {
            n.writeTo(out);
        }
    }

    public static Epoch readFrom(DataInput in) throws IOException {
        return readFrom(in, false);
    }

    /** {@code u32}: a record of the first epoch log format, whose numbers were 32 bits. */
    static Epoch readFrom(DataInput in, boolean u32) throws IOException {
        long number = u32 ? in.readInt() & 0xFFFFFFFFL : in.readLong();
        if (number < 0) {
            throw new IOException("corrupt epoch record: epoch " + number);
        }
        long time = in.readLong();
        int n = in.readInt();
        if (n < 0 || n > 100_000) {
            throw new IOException("corrupt epoch record: " + n + " members");
        }
        List<NodeInfo> members = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            members.add(NodeInfo.readFrom(in));
        }
        return new Epoch(number, time, members);
    }
}
