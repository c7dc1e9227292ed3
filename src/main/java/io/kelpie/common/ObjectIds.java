package io.kelpie.common;

/**
 * Sheepdog's 64-bit object id layout: bits 0-31 data object index, bits 32-55 VDI id,
 * bits 60-63 type flags.
 */
public final class ObjectIds {
    public static final long VDI_BIT = 1L << 63;
    public static final long VMSTATE_BIT = 1L << 62;
    public static final long VDI_ATTR_BIT = 1L << 61;
    public static final int VDI_SPACE_SHIFT = 32;
    public static final int VDI_ID_BITS = 24;
    public static final int MAX_VDI_ID = (1 << VDI_ID_BITS) - 1;
    public static final long INDEX_MASK = 0xFFFFFFFFL;
    /** Objects are {@code 1 << 22} = 4 MiB unless a cluster says otherwise (Sheepdog's default block_size_shift). */
    public static final int DEFAULT_BLOCK_SIZE_SHIFT = 22;

    private ObjectIds() {
    }

    public static long dataOid(int vid, long index) {
        return ((long) vid << VDI_SPACE_SHIFT) | (index & INDEX_MASK);
    }

    public static long inodeOid(int vid) {
        return VDI_BIT | ((long) vid << VDI_SPACE_SHIFT);
    }

    public static boolean isInode(long oid) {
        return (oid & VDI_BIT) != 0;
    }

    public static boolean isData(long oid) {
        return (oid & (VDI_BIT | VMSTATE_BIT | VDI_ATTR_BIT)) == 0;
    }

    public static int vid(long oid) {
        return (int) ((oid >>> VDI_SPACE_SHIFT) & MAX_VDI_ID);
    }

    public static long index(long oid) {
        return oid & INDEX_MASK;
    }

    /** Sixteen hex digits, the form used for object file names and in listings. */
    public static String toHex(long oid) {
        String digits = Long.toHexString(oid); // not String.format: this names a file at every open
        return "0000000000000000".substring(digits.length()) + digits;
    }

    public static long fromHex(String hex) {
        return Long.parseUnsignedLong(hex, 16);
    }
}
