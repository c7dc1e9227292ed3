package io.kelpie.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded LRU of open object files. A handle is reference counted so that an evicted channel is
 * closed only when its last user releases it; evicted channels close without fsync (data stays in
 * the page cache and the store remembers the object as dirty).
 */
final class ChannelCache {
    private final int capacity;
    private final LinkedHashMap<Long, Handle> map = new LinkedHashMap<>(256, 0.75f, true);

    ChannelCache(int capacity) {
        this.capacity = capacity;
    }

    synchronized Handle acquire(long oid) {
        Handle h = map.get(oid);
        if (h != null) {
            h.refs.incrementAndGet();
        }
        return h;
    }

    /** Caches a freshly opened channel (or closes it if another thread won the race) and acquires it. */
    synchronized Handle put(long oid, FileChannel ch) throws IOException {
        Handle h = map.get(oid);
        if (h != null) {
            ch.close();
        } else {
            h = new Handle(ch);
            map.put(oid, h);
            if (map.size() > capacity) {
                Iterator<Map.Entry<Long, Handle>> it = map.entrySet().iterator();
                Handle eldest = it.next().getValue();
                it.remove();
                eldest.release();
            }
        }
        h.refs.incrementAndGet();
        return h;
    }

    synchronized void evict(long oid) {
        Handle h = map.remove(oid);
        if (h != null) {
            h.release();
        }
    }

    void close() {
        List<Handle> all;
        synchronized (this) {
            all = new ArrayList<>(map.values());
            map.clear();
        }
        all.forEach(Handle::release);
    }

    static final class Handle {
        private final FileChannel channel;
        /** One reference held by the cache itself while the handle is cached. */
        private final AtomicInteger refs = new AtomicInteger(1);

        Handle(FileChannel channel) {
            this.channel = channel;
        }

        FileChannel channel() {
            return channel;
        }

        void release() {
            if (refs.decrementAndGet() == 0) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing was buffered in the channel itself
                }
            }
        }
    }
}
