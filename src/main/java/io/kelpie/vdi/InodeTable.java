package io.kelpie.vdi;

import net.openhft.chronicle.bytes.BytesStore;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An open VDI's {@code data_vdi_id[]} table, off-heap (4 MiB for 2^20 entries) in native memory
 * that a chronicle {@link BytesStore} owns and frees on {@link #close()}. (It must own it: a
 * BytesStore wrapping a direct ByteBuffer frees the buffer's memory on release, and the JVM's
 * cleaner would free it a second time.) Entries are read and written with volatile semantics so
 * the event loops and I/O threads that share a VDI see allocations at once.
 */
public final class InodeTable implements AutoCloseable {
    private final BytesStore<?, Void> bytes;
    private final int entries;

    public InodeTable(int entries) {
        this.entries = entries;
        this.bytes = BytesStore.nativeStoreWithFixedCapacity(entries * 4L);
        bytes.zeroOut(0, entries * 4L);
    }

    /** Loads entries from their on-disk form (u32 little-endian), starting at entry 0. */
    public void load(ByteBuf raw) {
        int n = Math.min(entries, raw.readableBytes() / 4);
        int base = raw.readerIndex();
        for (int i = 0; i < n; i++) {
            bytes.writeInt(i * 4L, raw.getIntLE(base + i * 4));
        }
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
