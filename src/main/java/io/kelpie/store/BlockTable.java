package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * An object's sidecar file {@code <oid>.meta}: its version and one crc32c entry per block.
 *
 * <pre>
 *   0     slot 0: u32 magic, u32 format, u64 version, u32 crc32c of the 16 bytes before
 *   512   slot 1: the same
 *   1024  u32 entry of block 0, block 1, ... (0: all zeros)
 * </pre>
 *
 * Version {@code v} is written to slot {@code v & 1}, so a torn header write (the slots are in
 * different sectors) still leaves the previous version in the other slot. The file is mapped
 * read-write and shared: a write's entry and version updates are memory stores into the page
 * cache (no system call per write), which survive a process crash like the data's pwrite does and
 * are made durable by {@link #force} (msync, on Linux an fdatasync of the range). The file is
 * created with real (not sparse) zeros, so a store into the mapping never needs a block
 * allocation that could fail with a full disk (SIGBUS). The file is not kept open: a mapping
 * outlives its channel, and an object cached for I/O then costs one descriptor, as before tables.
 * Callers serialize mutations per object; lock-free readers see aligned ints.
 */
final class BlockTable {
    static final int MAGIC = 0x4b4c504d; // "KLPM"
    static final int FORMAT = 1;
    static final int SLOT_BYTES = 20;
    static final int SLOT1 = 512;
    static final int ENTRIES = 1024;
    /** Entries for 1792 blocks (7 MiB): every data and inode object without a remap. */
    static final int INITIAL_SIZE = 8192;

    private final Path path;
    private volatile MappedByteBuffer map;
    /** Replaced mappings stay mapped until close: a lock-free reader may still hold one. */
    private final List<MappedByteBuffer> maps = new ArrayList<>(1);

    /** The newest valid slot's version, read once at open: this instance is the file's only writer. */
    private volatile long version;

    private BlockTable(Path path, FileChannel channel) throws IOException {
        this.path = path;
        remap(channel, channel.size());
        MappedByteBuffer m = map;
        this.version = Math.max(slot(m, 0), slot(m, SLOT1));
    }

    /** Creates (or replaces) the table at {@code version} with {@code entries}, unsynced. */
    static BlockTable create(Path path, long version, int[] entries) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeImage(ch, version, entries);
            return new BlockTable(path, ch);
        }
    }

    /** Opens an existing table, or returns null when the file is missing or too short to be one. */
    static BlockTable open(Path path) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
        try (ch) {
            return ch.size() < INITIAL_SIZE ? null : new BlockTable(path, ch);
        }
    }

    /** Writes a whole table file (header, entries, zeros to at least {@link #INITIAL_SIZE}). */
    static void writeImage(FileChannel ch, long version, int[] entries) throws IOException {
        int size = sizeFor(entries.length);
        ByteBuffer b = ByteBuffer.allocate(size);
        putSlot(b, slotOffset(version), version);
        for (int i = 0; i < entries.length; i++) {
            b.putInt(ENTRIES + 4 * i, entries[i]);
        }
        for (long pos = 0; b.hasRemaining(); ) {
            pos += ch.write(b, pos);
        }
    }

    private static int sizeFor(int blocks) {
        int size = INITIAL_SIZE;
        while (size < ENTRIES + 4L * blocks) {
            size *= 2;
        }
        return size;
    }

    private static int slotOffset(long version) {
        return (version & 1) == 0 ? 0 : SLOT1;
    }

    private static void putSlot(ByteBuffer b, int at, long version) {
        ByteBuffer s = ByteBuffer.allocate(SLOT_BYTES);
        s.putInt(MAGIC).putInt(FORMAT).putLong(version);
        CRC32C c = new CRC32C();
        c.update(s.array(), 0, 16);
        s.putInt((int) c.getValue());
        b.put(at, s.array());
    }

    /** The newest valid version of the two slots, or -1 when neither is valid. */
    long version() {
        return version;
    }

    private static long slot(ByteBuffer m, int at) {
        byte[] s = new byte[SLOT_BYTES];
        m.get(at, s);
        ByteBuffer b = ByteBuffer.wrap(s);
        CRC32C c = new CRC32C();
        c.update(s, 0, 16);
        if (b.getInt(0) != MAGIC || b.getInt(4) != FORMAT || b.getInt(16) != (int) c.getValue()) {
            return -1;
        }
        return b.getLong(8);
    }

    void setVersion(long version) {
        putSlot(map, slotOffset(version), version);
        this.version = version;
    }

    /** Entries this table holds without growing. */
    int capacity() {
        return (map.capacity() - ENTRIES) / 4;
    }

    /** Block {@code i}'s entry (0 past the table). Lock-free. */
    int entry(int i) {
        MappedByteBuffer m = map;
        long at = ENTRIES + 4L * i;
        return at + 4 > m.capacity() ? 0 : m.getInt((int) at);
    }

    /** Sets block {@code i}'s entry, growing the table first if needed. Callers hold the object's lock. */
    void setEntry(int i, int entry) throws IOException {
        if (i >= capacity()) {
            if (entry == 0) {
                return;
            }
            grow(i + 1);
        }
        map.putInt(ENTRIES + 4 * i, entry);
    }

    private void grow(int blocks) throws IOException {
        int size = sizeFor(blocks);
        ByteBuffer zeros = ByteBuffer.allocate(size - map.capacity());
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (long pos = map.capacity(); zeros.hasRemaining(); ) {
                pos += channel.write(zeros, pos);
            }
            channel.force(false); // the new size, before the mapping's stores depend on it
            remap(channel, size);
        }
    }

    private synchronized void remap(FileChannel channel, long size) throws IOException {
        MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_WRITE, 0, Math.min(size, Integer.MAX_VALUE));
        maps.add(m);
        map = m;
    }

    /** Makes the version and entries durable. */
    void force() throws IOException {
        try {
            map.force(); // the whole file: older mappings are prefixes of the same pages
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Unmaps the table (its stores stay in the page cache, dirty until written back or synced):
     * callers guarantee no reader or writer is left (the handle's last reference).
     */
    synchronized void close() {
        map = null;
        for (MappedByteBuffer m : maps) {
            io.netty.util.internal.PlatformDependent.freeDirectBuffer(m);
        }
        maps.clear();
    }
}
