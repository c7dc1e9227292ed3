package io.kelpie.peer;

import io.kelpie.store.ObjectStore.ObjectMeta;
import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * Payloads of the object metadata opcodes, shared by recovery, repair and check.
 *
 * <pre>
 * STAT_OBJ response       u8 exists, u64 version, u32 digest, u32 n, n x u32 bad block
 * FETCH_OBJ response      u8 exists, u64 version, then the object's bytes (the request's length)
 *   with FLAG_PACKED      u8 2 (0: absent), u64 version, u32 length, u32 n, n x u32 block entry,
 *                         then the bytes of the blocks whose entry is not 0 (the last cut at length)
 * LIST_VERSIONS response  u32 n, n x (u64 oid, u64 version)
 * </pre>
 */
public final class ObjectMessages {
    private ObjectMessages() {
    }

    public static void writeStat(WireWriter w, ObjectMeta m) {
        w.bool(m.exists()).i64(m.version()).i32(m.digest()).i32(m.badBlocks().size());
        m.badBlocks().forEach(w::i32);
    }

    public static ObjectMeta readStat(WireReader r) {
        boolean exists = r.bool();
        long version = r.i64();
        int digest = r.i32();
        int n = AdminMessages.count(r);
        List<Integer> bad = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            bad.add(r.i32());
        }
        return new ObjectMeta(exists, version, digest, List.copyOf(bad));
    }

    /** The exists byte of a packed FETCH_OBJ answer (a node that ignores FLAG_PACKED answers 1). */
    public static final int PACKED = 2;

    /**
     * A whole object as FETCH_OBJ returns it; {@code content} is a slice of the response payload:
     * the object's bytes, or with {@code entries} (packed) the bytes of its non-zero blocks.
     */
    public record ObjectCopy(boolean exists, long version, int length, int[] entries, ByteBuf content) {
        public static ObjectCopy read(ByteBuf payload) {
            int kind = payload.readUnsignedByte();
            long version = payload.readLong();
            if (kind != PACKED) {
                return new ObjectCopy(kind != 0, version, payload.readableBytes(), null, payload.slice());
            }
            int length = payload.readInt();
            int[] entries = new int[AdminMessages.count(new WireReader(payload))];
            for (int i = 0; i < entries.length; i++) {
                entries[i] = payload.readInt();
            }
            return new ObjectCopy(true, version, length, entries, payload.slice());
        }

        public boolean packed() {
            return entries != null;
        }
    }

    /** The header of a packed FETCH_OBJ answer; the non-zero blocks follow it. */
    public static void writePackedHeader(ByteBuf out, long version, int length, int[] entries) {
        out.writeByte(PACKED).writeLong(version).writeInt(length).writeInt(entries.length);
        for (int e : entries) {
            out.writeInt(e);
        }
    }

    /** An object id with its version, as LIST_VERSIONS lists them. */
    public record Versioned(long oid, long version) {
    }

    public static List<Versioned> readVersions(WireReader r) {
        int n = AdminMessages.count(r);
        List<Versioned> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Versioned(r.i64(), r.i64()));
        }
        return out;
    }
}
