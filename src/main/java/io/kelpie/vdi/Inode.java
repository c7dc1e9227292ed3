package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;

/**
 * The header of a VDI's inode object (Sheepdog's {@code struct sd_inode} without the tables).
 * Immutable: every change makes a new value with a higher {@code version}, which the codec uses to
 * pick the newest of the two header slots.
 *
 * @param snapCtime     non-zero when this VDI is a snapshot (read-only)
 * @param parentVdiId   the snapshot this VDI was cloned or continued from, 0 for none
 * @param version       bumped on every header update
 * @param deleted       a deleted inode keeps its id reserved until its objects are gone
 */
public record Inode(
        String name,
        String tag,
        long createTime,
        long snapCtime,
        long size,
        int copies,
        int blockSizeShift,
        int snapId,
        int vdiId,
        int parentVdiId,
        long version,
        boolean deleted) {

    public static final int MAX_NAME_BYTES = 256;
    public static final int MAX_TAG_BYTES = 256;
    public static final int MAX_COPIES = 31;
    public static final int DEFAULT_BLOCK_SIZE_SHIFT = ObjectIds.DEFAULT_BLOCK_SIZE_SHIFT;
    /** Entries in {@code data_vdi_id[]}: 2^20, so 4 TiB of 4 MiB objects. */
    public static final int MAX_DATA_OBJECTS = 1 << 20;

    public long objectSize() {
        return 1L << blockSizeShift;
    }

    public long maxSize() {
        return (long) MAX_DATA_OBJECTS << blockSizeShift;
    }

    /** Number of data objects that cover {@code size}. */
    public long objectCount() {
        return (size + objectSize() - 1) >>> blockSizeShift;
    }

    public boolean isSnapshot() {
        return snapCtime != 0;
    }

    public long inodeOid() {
        return ObjectIds.inodeOid(vdiId);
    }

    public Inode withSize(long newSize) {
        return new Inode(name, tag, createTime, snapCtime, newSize, copies, blockSizeShift, snapId, vdiId, parentVdiId,
                version + 1, deleted);
    }

    public Inode asDeleted() {
        return new Inode(name, tag, createTime, snapCtime, size, copies, blockSizeShift, snapId, vdiId, parentVdiId,
                version + 1, true);
    }

    public Inode asSnapshot(String newTag, long ctime) {
        return new Inode(name, newTag, createTime, ctime, size, copies, blockSizeShift, snapId, vdiId, parentVdiId,
                version + 1, deleted);
    }

    /** "name", or "name@tag" for snapshots ("name@ID" untagged): the export name. */
    public String displayName() {
        return isSnapshot() ? name + "@" + (tag.isEmpty() ? String.valueOf(snapId) : tag) : name;
    }
}
