package io.kelpie.peer;

import java.util.ArrayList;
import java.util.List;

/**
 * Results of the admin opcodes, shared by the node (which encodes them) and the CLI (which decodes
 * them). Every record writes itself with {@link WireWriter} and reads itself back in the same order.
 */
public final class AdminMessages {
    private AdminMessages() {
    }

    /** A node with its share of the ring (vnodes) and the space of its store (-1: node did not answer). */
    public record MemberInfo(String id, String address, String zone, long used, long free, long objects, int vnodes) {
        public void write(WireWriter w) {
            w.string(id).string(address).string(zone).i64(used).i64(free).i64(objects).i32(vnodes);
        }

        public static MemberInfo read(WireReader r) {
            return new MemberInfo(r.string(), r.string(), r.string(), r.i64(), r.i64(), r.i64(), r.i32());
        }
    }

    public record EpochInfo(long epoch, long time, List<String> members) {
        public void write(WireWriter w) {
            w.i64(epoch).i64(time).i32(members.size());
            members.forEach(w::string);
        }

        public static EpochInfo read(WireReader r) {
            long epoch = r.i64();
            long time = r.i64();
            int n = count(r);
            List<String> m = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                m.add(r.string());
            }
            return new EpochInfo(epoch, time, m);
        }
    }

    /**
     * {@code formatted == false}: every other field is empty or zero. {@code refusal}: why the
     * answering node does not serve I/O (no quorum, waiting for nodes after a restart), "" while it does.
     */
    public record ClusterInfo(boolean formatted, String clusterId, long createTime, int copies, int minCopies,
                              int blockSizeShift, long epoch, List<EpochInfo> history, String refusal) {
        public void write(WireWriter w) {
            w.bool(formatted).string(clusterId).i64(createTime).i32(copies).i32(minCopies).i32(blockSizeShift).i64(epoch)
                    .i32(history.size());
            history.forEach(e -> e.write(w));
            w.string(refusal == null ? "" : refusal);
        }

        public static ClusterInfo read(WireReader r) {
            boolean f = r.bool();
            String id = r.string();
            long t = r.i64();
            int copies = r.i32();
            int minCopies = r.i32();
            int shift = r.i32();
            long epoch = r.i64();
            int n = count(r);
            List<EpochInfo> h = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                h.add(EpochInfo.read(r));
            }
            return new ClusterInfo(f, id, t, copies, minCopies, shift, epoch, h, r.string());
        }
    }

    /**
     * A VDI as {@code vdi list} shows it.
     *
     * @param usedObjects data objects this VDI owns; {@code sharedObjects} those it reads from a parent
     */
    public record VdiInfo(String name, String tag, int vdiId, long size, int copies, long createTime, long snapCtime,
                          int snapId, int parentVdiId, int blockSizeShift, long usedObjects, long sharedObjects) {
        public boolean snapshot() {
            return snapCtime != 0;
        }

        public long objectSize() {
            return 1L << blockSizeShift;
        }

        public void write(WireWriter w) {
            w.string(name).string(tag).i32(vdiId).i64(size).i32(copies).i64(createTime).i64(snapCtime).i32(snapId)
                    .i32(parentVdiId).i32(blockSizeShift).i64(usedObjects).i64(sharedObjects);
        }

        public static VdiInfo read(WireReader r) {
            return new VdiInfo(r.string(), r.string(), r.i32(), r.i64(), r.i32(), r.i64(), r.i64(), r.i32(), r.i32(),
                    r.i32(), r.i64(), r.i64());
        }
    }

    /** Where one data object of a VDI lives. */
    public record ObjectInfo(long index, long oid, int ownerVdiId, String ownerName, List<String> nodes) {
        public void write(WireWriter w) {
            w.i64(index).i64(oid).i32(ownerVdiId).string(ownerName).i32(nodes.size());
            nodes.forEach(w::string);
        }

        public static ObjectInfo read(WireReader r) {
            long index = r.i64();
            long oid = r.i64();
            int owner = r.i32();
            String ownerName = r.string();
            int n = count(r);
            List<String> nodes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                nodes.add(r.string());
            }
            return new ObjectInfo(index, oid, owner, ownerName, nodes);
        }
    }

    /** A list count, sanity-checked against the bytes left so a corrupt count cannot allocate wildly. */
    public static int count(WireReader r) {
        int n = r.i32();
        if (n < 0 || n > r.buf().readableBytes()) {
            throw new io.kelpie.common.KelpieException(io.kelpie.common.Status.INVALID, "corrupt list count " + n);
        }
        return n;
    }
}
