package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.Map;

/**
 * The catalogue as bytes, for its file and for joiners: every header, the ids still reserved by
 * unfinished deletes, the locks (for joiners only), the attributes, the unsealed VDIs, the
 * deletes whose reclaim has not finished and the snapshots' readers (for joiners only). Sections are appended to only, each read when present,
 * so a file written before a section existed still reads. Called under the catalogue's lock.
 */
final class CatalogueCodec {
    private CatalogueCodec() {
    }

    static byte[] encode(Catalogue c, boolean withLocks) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(c.inodes.size());
            for (Inode in : c.inodes.values()) {
                ByteBuffer h = InodeCodec.encodeHeader(in);
                byte[] b = new byte[h.remaining()];
                h.get(b);
                out.writeInt(b.length);
                out.write(b);
            }
            BitSet reserved = (BitSet) c.inUse.clone();
            c.inodes.keySet().forEach(reserved::clear);
            out.writeInt(reserved.cardinality());
            for (int v = reserved.nextSetBit(0); v >= 0; v = reserved.nextSetBit(v + 1)) {
                out.writeInt(v);
            }
            // Lock count always (0 on disk), so that the attributes after it can be told from locks.
            out.writeInt(withLocks ? c.locks.size() : 0);
            for (Map.Entry<Integer, String> e : withLocks ? c.locks.entrySet() : Map.<Integer, String>of().entrySet()) {
                out.writeInt(e.getKey());
                out.writeUTF(e.getValue());
            }
            c.attrs.encode(out);
            c.unsealed.encode(out);
            c.reclaiming.encode(out);
            // Snapshot readers: for joiners, like locks (none on disk).
            out.writeInt(withLocks ? c.readers.size() : 0);
            for (Map.Entry<Integer, java.util.Set<String>> e : withLocks ? c.readers.entrySet()
                    : Map.<Integer, java.util.Set<String>>of().entrySet()) {
                out.writeInt(e.getKey());
                out.writeInt(e.getValue().size());
                for (String h : e.getValue()) {
                    out.writeUTF(h);
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Replaces the catalogue with a snapshot (a node joining, or one restarting). Locks naming
     * {@code self} (ID@...) are left from before this node restarted: it has nothing open yet.
     */
    static void restore(Catalogue c, byte[] snapshot, String self) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
            c.inodes.clear();
            c.inUse.clear();
            c.locks.clear();
            c.readers.clear();
            c.attrs.clear();
            c.unsealed.clear();
            c.reclaiming.clear();
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                Inode inode = InodeCodec.decodeSlot(ByteBuffer.wrap(b));
                if (inode == null) {
                    throw new IOException("damaged VDI header in the catalogue");
                }
                c.register(inode);
            }
            int r = in.readInt();
            for (int i = 0; i < r; i++) {
                c.inUse.set(in.readInt());
            }
            if (in.available() > 0) {
                String mine = self.substring(0, self.indexOf('@') + 1);
                int l = in.readInt();
                for (int i = 0; i < l; i++) {
                    int vid = in.readInt();
                    String holder = in.readUTF();
                    if (!holder.startsWith(mine) && c.inodes.containsKey(vid)) {
                        c.locks.put(vid, holder);
                    }
                }
            }
            if (in.available() > 0) {
                c.attrs.decode(in, c.inodes.keySet());
            }
            if (in.available() > 0) {
                c.unsealed.decode(in, c.inodes.keySet());
            }
            if (in.available() > 0) {
                c.reclaiming.decode(in, c.inodes.keySet());
            } else {
                // A file from before reclaims were tracked: every placeholder is looked at once more.
                c.inodes.values().stream().filter(Inode::deleted).forEach(d -> c.reclaiming.add(d.vdiId()));
            }
            if (in.available() > 0) {
                String mine = self.substring(0, self.indexOf('@') + 1);
                int snapshots = in.readInt();
                for (int i = 0; i < snapshots; i++) {
                    int vid = in.readInt();
                    int k = in.readInt();
                    for (int j = 0; j < k; j++) {
                        String h = in.readUTF();
                        if (!h.startsWith(mine) && c.inodes.containsKey(vid)) { // this node, restarted, reads nothing yet
                            c.readers.computeIfAbsent(vid, x -> new java.util.TreeSet<>()).add(h);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new KelpieException(Status.IO_ERROR, "corrupt VDI catalogue: " + e.getMessage(), e);
        }
    }
}
