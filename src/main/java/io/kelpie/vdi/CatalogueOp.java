package io.kelpie.vdi;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A change to the VDI catalogue, decided identically on every node when applied in the cluster's
 * order (see {@link VdiManager#apply}). Carries everything the decision depends on, the time
 * included, so that no node consults its own clock or disk.
 */
public record CatalogueOp(Kind kind, String name, long size, int copies, long time, int vid, String holder, String target,
                          byte[] value) {

    /** Appended to only: ops are encoded by ordinal. */
    public enum Kind { CREATE, RESIZE, DELETE, RELEASE, LOCK, UNLOCK, BARRIER, SNAPSHOT, CLONE, ROLLBACK, ATTR, SEAL, RECLAIM }

    private static final byte[] NONE = new byte[0];

    public CatalogueOp(Kind kind, String name, long size, int copies, long time, int vid, String holder, String target) {
        this(kind, name, size, copies, time, vid, holder, target, NONE);
    }

    public CatalogueOp(Kind kind, String name, long size, int copies, long time, int vid, String holder) {
        this(kind, name, size, copies, time, vid, holder, "");
    }

    public CatalogueOp(Kind kind, String name, long size, int copies, long time, int vid) {
        this(kind, name, size, copies, time, vid, "");
    }

    /**
     * The working VDI {@code name} becomes snapshot {@code tag} ("" for the id only) and the VDI goes
     * on under a new id. {@code holder} must have it open: that node has paused its writes.
     */
    public static CatalogueOp snapshot(String name, String tag, long time, String holder) {
        return new CatalogueOp(Kind.SNAPSHOT, name, 0, 0, time, 0, holder, tag);
    }

    /**
     * A new VDI {@code name} whose parent is the snapshot {@code source} (NAME@TAG); claimed for
     * {@code holder} until it has written the new inode.
     */
    public static CatalogueOp clone(String source, String name, int copies, long time, String holder) {
        return new CatalogueOp(Kind.CLONE, name, 0, copies, time, 0, holder, source);
    }

    /** The working VDI {@code name} is replaced by a new one with the content of {@code snapshot} (NAME@TAG). */
    public static CatalogueOp rollback(String name, String snapshot, long time, String holder) {
        return new CatalogueOp(Kind.ROLLBACK, name, 0, 0, time, 0, holder, snapshot);
    }

    /**
     * Sets attribute {@code key} of VDI (or NAME@TAG snapshot) {@code exportName} to {@code value};
     * with {@code exclusive} only if it has none, with {@code delete} removes it.
     */
    public static CatalogueOp attr(String exportName, String key, byte[] value, boolean exclusive, boolean delete) {
        long flags = (exclusive ? VdiAttributes.EXCLUSIVE : 0) | (delete ? VdiAttributes.DELETE : 0);
        return new CatalogueOp(Kind.ATTR, exportName, flags, 0, 0, 0, "", key, value);
    }

    public static CatalogueOp create(String name, long size, int copies, long time) {
        return new CatalogueOp(Kind.CREATE, name, size, copies, time, 0);
    }

    /** {@link #create}, claimed for {@code holder} until it has written the inode and sealed it. */
    public static CatalogueOp create(String name, long size, int copies, long time, String holder) {
        return new CatalogueOp(Kind.CREATE, name, size, copies, time, 0, holder);
    }

    /**
     * The inode object of the new VDI {@code vid} (created, cloned, snapshotted or rolled back to)
     * is durably written: it is no longer read as its parent's table. {@code holder} must hold the
     * VDI; with {@code unlock} it gives the VDI up in the same step.
     */
    public static CatalogueOp seal(int vid, String holder, boolean unlock) {
        return new CatalogueOp(Kind.SEAL, "", unlock ? 1 : 0, 0, 0, vid, holder);
    }

    /**
     * Claims the deleted placeholder {@code vid} for {@code holder} to reclaim its objects: one node
     * at a time, so that nobody frees by a stale view (ended by UNLOCK or RELEASE).
     */
    public static CatalogueOp reclaim(int vid, String holder) {
        return new CatalogueOp(Kind.RECLAIM, "", 0, 0, 0, vid, holder);
    }

    /** {@code holder}'s reclaim of placeholder {@code vid} is done (what is left, live VDIs read): its claim ends. */
    public static CatalogueOp reclaimed(int vid, String holder) {
        return new CatalogueOp(Kind.RECLAIM, "", 1, 0, 0, vid, holder);
    }

    public static CatalogueOp resize(String name, long size) {
        return new CatalogueOp(Kind.RESIZE, name, size, 0, 0, 0);
    }

    public static CatalogueOp delete(String exportName) {
        return new CatalogueOp(Kind.DELETE, exportName, 0, 0, 0, 0);
    }

    /** A deleted VDI's objects are gone: it leaves the catalogue and its id may be reused. */
    public static CatalogueOp release(int vid) {
        return new CatalogueOp(Kind.RELEASE, "", 0, 0, 0, vid);
    }

    /**
     * Claims VDI {@code vid} for I/O on the node {@code holder} (its {@code ID@HOST:PORT}): one node
     * at a time may have a VDI open, since each caches the VDI's allocation table.
     */
    public static CatalogueOp lock(String exportName, int vid, String holder) {
        return new CatalogueOp(Kind.LOCK, exportName, 0, 0, 0, vid, holder);
    }

    /** Gives up {@code holder}'s claim on VDI {@code vid} (its last local handle closed). */
    public static CatalogueOp unlock(int vid, String holder) {
        return new CatalogueOp(Kind.UNLOCK, "", 0, 0, 0, vid, holder);
    }

    /**
     * Changes nothing: once it is applied here, so is every change ordered before it, such as a
     * create that another node already acknowledged.
     */
    public static CatalogueOp barrier() {
        return new CatalogueOp(Kind.BARRIER, "", 0, 0, 0, 0);
    }

    /** By content, value included (a record compares arrays by reference). */
    @Override
    public boolean equals(Object o) {
        return o instanceof CatalogueOp c && kind == c.kind && name.equals(c.name) && size == c.size && copies == c.copies
                && time == c.time && vid == c.vid && holder.equals(c.holder) && target.equals(c.target)
                && java.util.Arrays.equals(value, c.value);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(kind, name, size, copies, time, vid, holder, target) * 31 + java.util.Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "CatalogueOp[" + kind + " " + name + " size=" + size + " copies=" + copies + " time=" + time + " vid=" + vid
                + " holder=" + holder + " target=" + target + " value=" + value.length + " bytes]";
    }

    public byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(kind.ordinal());
            out.writeUTF(name);
            out.writeLong(size);
            out.writeInt(copies);
            out.writeLong(time);
            out.writeInt(vid);
            out.writeUTF(holder);
            out.writeUTF(target);
            out.writeInt(value.length);
            out.write(value);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static CatalogueOp decode(byte[] b) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
        int k = in.readUnsignedByte();
        if (k >= Kind.values().length) {
            throw new IOException("unknown catalogue operation " + k);
        }
        CatalogueOp op = new CatalogueOp(Kind.values()[k], in.readUTF(), in.readLong(), in.readInt(), in.readLong(), in.readInt(),
                in.readUTF(), in.available() > 0 ? in.readUTF() : "");
        if (in.available() > 0) {
            int len = in.readInt();
            if (len < 0 || len > in.available()) {
                throw new IOException("catalogue operation with a value of " + len + " bytes");
            }
            byte[] value = new byte[len];
            in.readFully(value);
            op = new CatalogueOp(op.kind, op.name, op.size, op.copies, op.time, op.vid, op.holder, op.target, value);
        }
        return op;
    }
}
