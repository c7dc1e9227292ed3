package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * On-disk form of an inode object:
 * <pre>
 *   [0, 4096)      header slot 0
 *   [4096, 8192)   header slot 1
 *   [8192, ...)    data_vdi_id[i], u32 little-endian, one per data object
 * </pre>
 * A header update writes the slot {@code version % 2} whole, CRC32C-sealed, and never touches the
 * other; a reader takes the valid slot with the higher version. A crash mid-update therefore leaves
 * the previous or the new header, never a torn one. Table entries are aligned 4-byte writes inside
 * one sector, which are atomic.
 */
public final class InodeCodec {
    public static final int SLOT_SIZE = 4096;
    public static final long TABLE_OFFSET = 2L * SLOT_SIZE;
    public static final int MAGIC = 0x4b494e4f; // "KINO"
    private static final int FORMAT = 1;

    private InodeCodec() {
    }

    public static long slotOffset(long version) {
        return (version & 1) * SLOT_SIZE;
    }

    public static long tableEntryOffset(long index) {
        return TABLE_OFFSET + 4 * index;
    }

    /** Encodes {@code inode} as one full header slot, to be written at {@link #slotOffset}. */
    public static ByteBuffer encodeHeader(Inode inode) {
        ByteBuffer b = ByteBuffer.allocate(SLOT_SIZE).order(ByteOrder.BIG_ENDIAN);
        b.putInt(MAGIC).putShort((short) FORMAT).putShort((short) 0);
        b.putLong(inode.version());
        putString(b, inode.name(), Inode.MAX_NAME_BYTES);
        putString(b, inode.tag(), Inode.MAX_TAG_BYTES);
        b.putLong(inode.createTime()).putLong(inode.snapCtime()).putLong(inode.size());
        b.put((byte) inode.copies()).put((byte) inode.blockSizeShift()).put((byte) (inode.deleted() ? 1 : 0)).put((byte) 0);
        b.putInt(inode.snapId()).putInt(inode.vdiId()).putInt(inode.parentVdiId());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        b.clear();
        return b;
    }

    /** Decodes one slot; null when the slot is empty, torn or corrupt. */
    public static Inode decodeSlot(ByteBuffer slot) {
        ByteBuffer b = slot.duplicate().order(ByteOrder.BIG_ENDIAN);
        int start = b.position();
        try {
            if (b.getInt() != MAGIC || b.getShort() != FORMAT) {
                return null;
            }
            b.getShort();
            long version = b.getLong();
            String name = getString(b, Inode.MAX_NAME_BYTES);
            String tag = getString(b, Inode.MAX_TAG_BYTES);
            long ctime = b.getLong();
            long snapCtime = b.getLong();
            long size = b.getLong();
            int copies = b.get() & 0xff;
            int shift = b.get() & 0xff;
            boolean deleted = b.get() != 0;
            b.get();
            int snapId = b.getInt();
            int vid = b.getInt();
            int parent = b.getInt();
            int end = b.position();
            CRC32C crc = new CRC32C();
            ByteBuffer covered = slot.duplicate();
            covered.position(start).limit(end);
            crc.update(covered);
            if (b.getInt() != (int) crc.getValue()) {
                return null;
            }
            return new Inode(name, tag, ctime, snapCtime, size, copies, shift, snapId, vid, parent, version, deleted);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Picks the newest valid header from the first {@code 2 * SLOT_SIZE} bytes of an inode object. */
    public static Inode decodeHeader(ByteBuffer twoSlots, long oid) {
        ByteBuffer s0 = twoSlots.duplicate();
        s0.limit(s0.position() + SLOT_SIZE);
        ByteBuffer s1 = twoSlots.duplicate();
        s1.position(s1.position() + SLOT_SIZE).limit(s1.position() + SLOT_SIZE);
        Inode a = decodeSlot(s0);
        Inode b = decodeSlot(s1);
        if (a == null && b == null) {
            throw new KelpieException(Status.IO_ERROR, "inode object " + ObjectIds.toHex(oid) + " has no valid header");
        }
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return a.version() >= b.version() ? a : b;
    }

    private static void putString(ByteBuffer b, String s, int max) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > max) {
            throw new KelpieException(Status.INVALID, "name or tag longer than " + max + " bytes");
        }
        b.putShort((short) bytes.length);
        b.put(bytes);
        b.position(b.position() + max - bytes.length);
    }

    private static String getString(ByteBuffer b, int max) {
        int len = b.getShort() & 0xffff;
        if (len > max) {
            throw new IllegalArgumentException("string too long");
        }
        byte[] bytes = new byte[len];
        b.get(bytes);
        b.position(b.position() + max - len);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
