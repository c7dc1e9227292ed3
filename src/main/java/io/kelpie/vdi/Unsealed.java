package io.kelpie.vdi;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;

/**
 * The VDIs the catalogue has registered whose inode object may not be written yet. Every new VDI
 * is ordered first and written after, by the node that asked; a crash in between would leave a
 * catalogue entry without an inode object. Until that node orders SEAL, such a VDI reads as its
 * parent's table (all of a new VDI's parents are frozen snapshots, so that is exactly the table it
 * was given) or, with no parent, as an empty one; whoever next claims it writes the inode object
 * so and seals it. Part of the catalogue: changed in cluster order only, persisted with it.
 */
final class Unsealed {
    private final Set<Integer> vids = new TreeSet<>();

    void add(int vid) {
        vids.add(vid);
    }

    /** Whether {@code vid} was unsealed (and now is not). */
    boolean remove(int vid) {
        return vids.remove(vid);
    }

    boolean contains(int vid) {
        return vids.contains(vid);
    }

    int size() {
        return vids.size();
    }

    void clear() {
        vids.clear();
    }

    /** Count then ids; appended after the attributes, so catalogue files from before read as none unsealed. */
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
            throw new IOException(n + " unsealed VDIs of " + known.size());
        }
        for (int i = 0; i < n; i++) {
            int v = in.readInt();
            if (known.contains(v)) {
                vids.add(v);
            }
        }
    }
}
