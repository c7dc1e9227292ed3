package io.kelpie.common;

import java.nio.charset.StandardCharsets;

/** 64-bit FNV-1a, the hash Sheepdog uses for VDI ids, object placement and vnodes. */
public final class Fnv1a {
    public static final long OFFSET_BASIS = 0xcbf29ce484222325L;
    public static final long PRIME = 0x100000001b3L;

    private Fnv1a() {
    }

    public static long hash(byte[] data) {
        return hash(data, OFFSET_BASIS);
    }

    public static long hash(byte[] data, long seed) {
        long h = seed;
        for (byte b : data) {
            h ^= b & 0xff;
            h *= PRIME;
        }
        return h;
    }

    public static long hash(String s) {
        return hash(s.getBytes(StandardCharsets.UTF_8));
    }

    /** FNV-1a over the eight bytes of {@code value}, least significant byte first. */
    public static long hashLong(long value, long seed) {
        long h = seed;
        for (int i = 0; i < 8; i++) {
            h ^= (value >>> (8 * i)) & 0xff;
            h *= PRIME;
        }
        return h;
    }

    /** Sheepdog's object hash: hash the oid, then hash the hash again to spread nearby ids. */
    public static long objectHash(long oid) {
        long h = hashLong(oid, OFFSET_BASIS);
        return hashLong(h, h);
    }

    /** Sheepdog's next vnode hash from the previous one. */
    public static long next(long h) {
        return hashLong(h, h);
    }
}
