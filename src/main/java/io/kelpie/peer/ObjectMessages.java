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

    /** A whole object as FETCH_OBJ returns it; {@code content} is a slice of the response payload. */
    public record ObjectCopy(boolean exists, long version, ByteBuf content) {
        public static ObjectCopy read(ByteBuf payload) {
            WireReader r = new WireReader(payload);
            boolean exists = r.bool();
            long version = r.i64();
            return new ObjectCopy(exists, version, payload.slice());
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
