package io.kelpie.store;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded cache of open object files. Every read and write looks a channel up here, so lookups
 * take no lock: a concurrent map plus a CLOCK-style "used" bit instead of an access-ordered map
 * (whose every get is a write under one global lock). When the cache outgrows its capacity, handles
 * not used since the last sweep are evicted. A handle is reference counted so that an evicted
 * channel is closed only when its last user releases it; evicted channels close without fsync (data
 * stays in the page cache and the store remembers the object as dirty).
 */
final class ChannelCache {
    private final int capacity;
    private final ConcurrentHashMap<Long, Handle> map = new ConcurrentHashMap<>(256);
    private final AtomicInteger size = new AtomicInteger();

    ChannelCache(int capacity) {
        this.capacity = capacity;
    }

    /** The cached channel of {@code oid}, acquired, or null. */
    Handle acquire(long oid) {
        Handle h = map.get(oid);
        if (h == null || !h.tryRetain()) {
            return null;
        }
        if (!h.used) {
            h.used = true;
        }
        return h;
    }

    /**
     * Caches a freshly opened channel and its block table (or closes both if another thread won the
     * race) and acquires it.
     */
    Handle put(long oid, FileChannel ch, BlockTable table) throws IOException {
        Handle fresh = new Handle(ch, table);
        fresh.refs.incrementAndGet(); // the caller's reference
        while (true) {
            Handle h = map.putIfAbsent(oid, fresh);
            if (h == null) {
                if (size.incrementAndGet() > capacity) {
                    sweep();
                }
                return fresh;
            }
            if (h.tryRetain()) {
                fresh.release(); // the caller's reference
                fresh.release(); // the cache's: closes ch and table
                return h;
            }
            // lost to a concurrent eviction: the dead handle goes, ours takes its place
            if (map.remove(oid, h)) {
                size.decrementAndGet();
            }
        }
    }

    void evict(long oid) {
        Handle h = map.remove(oid);
        if (h != null) {
            size.decrementAndGet();
            h.release();
        }
    }

    /** Evicts handles not used since the previous sweep (clearing the bit of the others) until under capacity. */
    private synchronized void sweep() {
        int target = capacity - Math.max(1, capacity / 16);
        for (int pass = 0; pass < 2 && size.get() > target; pass++) {
            Iterator<java.util.Map.Entry<Long, Handle>> it = map.entrySet().iterator();
            while (it.hasNext() && size.get() > target) {
                java.util.Map.Entry<Long, Handle> e = it.next();
                Handle h = e.getValue();
                if (h.used) {
                    h.used = false;
                } else if (map.remove(e.getKey(), h)) {
                    size.decrementAndGet();
                    h.release();
                }
            }
        }
    }

    void close() {
        List<Long> oids = new ArrayList<>(map.keySet());
        oids.forEach(this::evict);
    }

    int size() {
        return size.get();
    }

    static final class Handle {
        private static final int MAX_REMAPS = 8;
        private final FileChannel channel;
        private final BlockTable table;
        /** One reference held by the cache itself while the handle is cached. */
        private final AtomicInteger refs = new AtomicInteger(1);
        /** Set on use, cleared by a sweep: a racy hint, never needed for correctness. */
        private volatile boolean used = true;
        /** A read-only shared map of the file's first bytes (never past its end), or null. */
        private volatile MappedByteBuffer mapping;
        private int remaps;
        /** Every mapping made, unmapped when the last reference goes (a reader holds one while copying). */
        private final List<MappedByteBuffer> mappings = new ArrayList<>(2);

        Handle(FileChannel channel, BlockTable table) {
            this.channel = channel;
            this.table = table;
        }

        FileChannel channel() {
            return channel;
        }

        /** The object's version and checksums, open and mapped as long as the handle is. */
        BlockTable table() {
            return table;
        }

        MappedByteBuffer mapping() {
            return mapping;
        }

        /**
         * Maps the file (as far as it now extends) if the mapping does not reach {@code end} yet.
         * Blocking (fstat, mmap): I/O threads only. Replaced mappings stay mapped until the handle
         * closes, so a reader still copying from one is never pulled out from under.
         */
        void mapCovering(long end) {
            MappedByteBuffer m = mapping;
            if (m != null && m.capacity() >= end) {
                return;
            }
            synchronized (this) {
                m = mapping;
                if (m != null && m.capacity() >= end || remaps < 0 || refs.get() <= 0) {
                    return;
                }
                long size;
                try {
                    size = Math.min(channel.size(), Integer.MAX_VALUE);
                } catch (IOException e) {
                    return;
                }
                // after a few remaps only a doubling is worth one: a file growing by small writes
                // must not leave a trail of mappings for the GC
                if (size < end || size == 0 || remaps >= MAX_REMAPS && m != null && size < 2L * m.capacity()) {
                    return;
                }
                remaps++;
                try {
                    MappedByteBuffer fresh = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
                    mappings.add(fresh);
                    mapping = fresh;
                } catch (IOException | RuntimeException e) {
                    remaps = -1; // only an optimization: reads keep going through pread
                }
            }
        }

        /**
         * Unmaps at once rather than when the GC gets to it: a removed object's blocks are freed
         * only when its file is neither open nor mapped. Safe: no reference, so no reader.
         */
        private synchronized void unmap() {
            mapping = null;
            for (MappedByteBuffer m : mappings) {
                io.netty.util.internal.PlatformDependent.freeDirectBuffer(m);
            }
            mappings.clear();
        }

        /** Takes a reference unless the handle is already closed (its last reference gone). */
        boolean tryRetain() {
            for (int r = refs.get(); r > 0; r = refs.get()) {
                if (refs.compareAndSet(r, r + 1)) {
                    return true;
                }
            }
            return false;
        }

        void release() {
            if (refs.decrementAndGet() == 0) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing was buffered in the channel itself
                }
                unmap();
                table.close();
            }
        }
    }
}
