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
public record CatalogueOp(Kind kind, String name, long size, int copies, long time, int vid, String holder) {

    public enum Kind { CREATE, RESIZE, DELETE, RELEASE, LOCK, UNLOCK, BARRIER }

    public CatalogueOp(Kind kind, String name, long size, int copies, long time, int vid) {
        this(kind, name, size, copies, time, vid, "");
    }

    public static CatalogueOp create(String name, long size, int copies, long time) {
        return new CatalogueOp(Kind.CREATE, name, size, copies, time, 0);
    }

    public static CatalogueOp resize(String name, long size) {
        return new CatalogueOp(Kind.RESIZE, name, size, 0, 0, 0);
    }

    public static CatalogueOp delete(String exportName) {
        return new CatalogueOp(Kind.DELETE, exportName, 0, 0, 0, 0);
    }

    /** The id of a deleted VDI whose objects are gone may be reused. */
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
        return new CatalogueOp(Kind.values()[k], in.readUTF(), in.readLong(), in.readInt(), in.readLong(), in.readInt(), in.readUTF());
    }
}
