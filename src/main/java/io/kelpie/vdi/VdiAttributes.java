package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * VDI attributes (Sheepdog's {@code dog vdi setattr/getattr}): small key/value pairs per VDI or
 * snapshot, kept in the catalogue rather than as attribute objects on the ring. The catalogue is
 * already ordered (an exclusive create is decided once, in the cluster's order), copied to every
 * node, saved on each node's disk and handed to joiners, so attributes get all of that for free
 * and a getattr is a local lookup. The price is that every node holds every attribute in memory
 * and rewrites them with the catalogue, hence the limits: a value of at most 64 KiB (Sheepdog's
 * SD_MAX_VDI_ATTR_VALUE_LEN), a key of at most 256 bytes, 1 MiB per VDI. Guarded by the
 * catalogue's lock.
 */
final class VdiAttributes {
    static final int MAX_KEY_BYTES = 256;
    static final int MAX_VALUE_BYTES = 64 << 10;
    static final int MAX_BYTES_PER_VDI = 1 << 20;
    /** CatalogueOp.size() of an ATTR op: fail if the key exists. */
    static final long EXCLUSIVE = 1;
    /** CatalogueOp.size() of an ATTR op: remove the key. */
    static final long DELETE = 2;

    private final Map<Integer, TreeMap<String, byte[]>> byVid = new HashMap<>();

    /** Checks what the proposing node can check before the op is ordered (so a bad one costs nothing). */
    static void validate(String key, byte[] value) {
        if (key == null || key.isEmpty()) {
            throw new KelpieException(Status.INVALID, "attribute key must not be empty");
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
            throw new KelpieException(Status.INVALID, "attribute key is longer than " + MAX_KEY_BYTES + " bytes");
        }
        if (value.length > MAX_VALUE_BYTES) {
            throw new KelpieException(Status.TOO_BIG, "attribute value is " + value.length + " bytes; the limit is "
                    + MAX_VALUE_BYTES + " (64 KiB)");
        }
    }

    /** Sets, creates (exclusive) or deletes {@code op.target()} of {@code in}; in apply only. */
    Object apply(Inode in, CatalogueOp op) {
        String key = op.target();
        validate(key, op.value());
        TreeMap<String, byte[]> attrs = byVid.get(in.vdiId());
        boolean exists = attrs != null && attrs.containsKey(key);
        if ((op.size() & DELETE) != 0) {
            if (!exists) {
                throw noKey(in, key);
            }
            attrs.remove(key);
            if (attrs.isEmpty()) {
                byVid.remove(in.vdiId());
            }
            return null;
        }
        if (exists && (op.size() & EXCLUSIVE) != 0) {
            throw new KelpieException(Status.VDI_EXISTS, "attribute '" + key + "' of VDI '" + in.displayName() + "' already exists");
        }
        long total = op.value().length + (long) key.length();
        if (attrs != null) {
            for (Map.Entry<String, byte[]> e : attrs.entrySet()) {
                total += e.getKey().equals(key) ? 0 : e.getKey().length() + e.getValue().length;
            }
        }
        if (total > MAX_BYTES_PER_VDI) {
            throw new KelpieException(Status.NO_SPACE, "VDI '" + in.displayName() + "' would have more than "
                    + MAX_BYTES_PER_VDI + " bytes of attributes");
        }
        byVid.computeIfAbsent(in.vdiId(), v -> new TreeMap<>()).put(key, op.value().clone());
        return null;
    }

    /** The value of {@code key} of {@code in}, a copy; NO_OBJECT when it has none. */
    byte[] get(Inode in, String key) {
        TreeMap<String, byte[]> attrs = byVid.get(in.vdiId());
        byte[] v = attrs == null ? null : attrs.get(key);
        if (v == null) {
            throw noKey(in, key);
        }
        return v.clone();
    }

    /** A snapshot keeps the VDI's attributes as they were, and the VDI goes on with them under its new id. */
    void copy(int fromVid, int toVid) {
        TreeMap<String, byte[]> attrs = byVid.get(fromVid);
        if (attrs != null) {
            byVid.put(toVid, new TreeMap<>(attrs));
        }
    }

    /** A rollback's new VDI takes over the replaced one's attributes: they describe the VDI, not its content. */
    void move(int fromVid, int toVid) {
        TreeMap<String, byte[]> attrs = byVid.remove(fromVid);
        if (attrs != null) {
            byVid.put(toVid, attrs);
        }
    }

    /** A deleted VDI or snapshot loses its attributes at once (its placeholder is no VDI to the user). */
    void drop(int vid) {
        byVid.remove(vid);
    }

    void clear() {
        byVid.clear();
    }

    void encode(DataOutputStream out) throws IOException {
        out.writeInt(byVid.size());
        for (Map.Entry<Integer, TreeMap<String, byte[]>> v : byVid.entrySet()) {
            out.writeInt(v.getKey());
            out.writeInt(v.getValue().size());
            for (Map.Entry<String, byte[]> e : v.getValue().entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                out.write(e.getValue());
            }
        }
    }

    /** Reads what {@link #encode} wrote, keeping only the attributes of VDIs in {@code known}. */
    void decode(DataInputStream in, java.util.Set<Integer> known) throws IOException {
        int vdis = in.readInt();
        for (int i = 0; i < vdis; i++) {
            int vid = in.readInt();
            int n = in.readInt();
            TreeMap<String, byte[]> attrs = new TreeMap<>();
            for (int j = 0; j < n; j++) {
                String key = in.readUTF();
                int len = in.readInt();
                if (len < 0 || len > MAX_VALUE_BYTES) {
                    throw new IOException("attribute value of " + len + " bytes");
                }
                byte[] value = new byte[len];
                in.readFully(value);
                attrs.put(key, value);
            }
            if (known.contains(vid) && !attrs.isEmpty()) {
                byVid.put(vid, attrs);
            }
        }
    }

    private static KelpieException noKey(Inode in, String key) {
        return new KelpieException(Status.NO_OBJECT, "VDI '" + in.displayName() + "' has no attribute '" + key + "'");
    }

    /** {@link VdiManager#getAttr}: a value not known here is looked up again after a barrier in the cluster's order. */
    static byte[] lookup(Catalogue catalogue, Ordering ordering, String exportName, String key) {
        try {
            return catalogue.attr(exportName, key);
        } catch (KelpieException e) {
            if (e.status() != Status.NO_OBJECT && e.status() != Status.NO_VDI) {
                throw e;
            }
            ordering.order(CatalogueOp.barrier());
            return catalogue.attr(exportName, key);
        }
    }

    /** {@link VdiManager#localAttr}: this node's value, null when unset. */
    static byte[] local(Catalogue catalogue, String exportName, String key) {
        try {
            return catalogue.attr(exportName, key);
        } catch (KelpieException e) {
            if (e.status() != Status.NO_OBJECT) {
                throw e; // NO_VDI: no such VDI
            }
            return null;
        }
    }
}
