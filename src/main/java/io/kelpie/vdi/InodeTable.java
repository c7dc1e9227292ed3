package io.kelpie.vdi;

import net.openhft.chronicle.bytes.BytesStore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An open VDI's {@code data_vdi_id[]} table, off-heap (4 MiB for 2^20 entries) in a chronicle
 * {@link BytesStore} over a direct buffer that the table is read into straight from the inode
 * object. Entries are read and written with volatile semantics so the event loops and I/O
 * threads that share a VDI see allocations at once.
 */
public final class InodeTable implements AutoCloseable {
    private final ByteBuffer buffer;
    private final BytesStore<?, ByteBuffer> bytes;
    private final int entries;

    public InodeTable(int entries) {
        this.entries = entries;
        this.buffer = ByteBuffer.allocateDirect(entries * 4).order(ByteOrder.LITTLE_ENDIAN);
        this.bytes = BytesStore.wrap(buffer);
    }

    /** The whole table as a buffer to load the inode object's table bytes into. */
    public ByteBuffer loadTarget() {
        return buffer.duplicate().clear();
    }

    public int entries() {
        return entries;
    }

    /** The VDI owning data object {@code index}; 0 = unallocated. */
    public int get(long index) {
        return bytes.readVolatileInt(index * 4);
    }

    public void set(long index, int vid) {
        bytes.writeVolatileInt(index * 4, vid);
    }

    /** The on-disk form of one entry, little-endian, to write at {@link InodeCodec#tableEntryOffset}. */
    public static ByteBuffer encodeEntry(int vid) {
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, vid);
        return b;
    }

    @Override
    public void close() {
        bytes.releaseLast();
    }
}
