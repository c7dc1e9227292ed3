package io.kelpie.backup;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

/**
 * The {@code vdi backup} stream, version 1 (doc/backup-format.md). All integers big-endian,
 * strings u16 length + UTF-8 (Java's modified UTF-8, as DataOutput writes it).
 *
 * <pre>
 * header   u64 MAGIC "KLPBACKP", u32 VERSION, string vdi name, u64 size, u32 object size,
 *          u8 has FROM, [FROM snap], TO snap, u32 crc32c of the header bytes before it
 *          snap = u32 vdi id, u32 snapshot id, string tag, u64 snapshot ctime (ms)
 * record   u8 'R', u64 offset, u32 length, length bytes, u32 crc32c of offset, length and data
 * end      u8 'E', u64 record count, u64 data bytes, 32-byte SHA-256 of every byte before it
 * </pre>
 *
 * The end marker with the whole-stream digest is what tells a complete stream from a truncated one:
 * a stream that ends anywhere else, or has bytes after it, is refused.
 */
public final class BackupFormat {
    public static final long MAGIC = 0x4B4C504241434B50L; // "KLPBACKP"
    public static final int VERSION = 1;
    public static final byte RECORD = 'R';
    public static final byte END = 'E';
    /** Blocks are compared at this granularity; a record is a run of differing blocks within one object. */
    public static final int BLOCK = 4096;
    /**
     * The attribute a restore sets on the snapshot it takes: which source snapshot (of which VDI)
     * the snapshot's content is, so that the next incremental restore checks its base by identity,
     * not only by tag.
     */
    public static final String SOURCE_ATTR = "kelpie.backup.source";

    private BackupFormat() {
    }

    /** One snapshot as the source cluster names it; ids and ctimes are that cluster's own. */
    public record Snap(int vdiId, int snapId, String tag, long ctime) {
        /** The name a restore matches against: the tag, or the snapshot id when there is none. */
        public String label() {
            return tag.isEmpty() ? String.valueOf(snapId) : tag;
        }

        /** This snapshot of source VDI {@code vdiName} as {@link #SOURCE_ATTR} records it. */
        public String identity(String vdiName) {
            return vdiName + "@" + label() + " vdi " + Integer.toHexString(vdiId) + " snapshot " + snapId + " ctime " + ctime;
        }
    }

    /** The stream's header; {@code from} is null for a full backup. */
    public record Header(String name, long size, int objectSize, Snap from, Snap to) {
        public boolean full() {
            return from == null;
        }
    }

    /** What a validated stream holds. */
    public record Summary(Header header, long records, long bytes) {
    }

    static KelpieException bad(String why) {
        return new KelpieException(Status.INVALID, "backup stream refused: " + why);
    }
}
