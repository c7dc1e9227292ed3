package io.kelpie.vdi;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;

/**
 * A set of VDI ids that is part of the catalogue (changed in cluster order only, persisted and
 * handed to joiners with it): the unsealed VDIs (see {@link NewInodes}) and the deleted ones
 * whose reclaim has not finished (see {@link Reclaimer}).
 */
final class VidSet {
    private final Set<Integer> vids = new TreeSet<>();

    void add(int vid) {
        vids.add(vid);
    }

    /** Whether {@code vid} was in the set (and now is not). */
    boolean remove(int vid) {
        return vids.remove(vid);
    }

    boolean contains(int vid) {
        return vids.contains(vid);
    }

    int size() {
        return vids.size();
    }

    /** A copy, in id order. */
    java.util.List<Integer> toList() {
        return java.util.List.copyOf(vids);
    }

    void clear() {
        vids.clear();
    }

    /** Count then ids. */
    void encode(DataOutputStream out) throws IOException {
        out.writeInt(vids.size());
        for (int v : vids) {
            out.writeInt(v);
        }
    }

    /** Reads what {@link #encode} wrote, keeping only ids of VDIs in {@code known}. */
    void decode(DataInputStream in, Set<Integer> known) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > known.size()) {
            throw new IOException("a set of " + n + " of " + known.size() + " VDIs");
        }
        for (int i = 0; i < n; i++) {
            int v = in.readInt();
            if (known.contains(v)) {
                vids.add(v);
            }
        }
    }
}
