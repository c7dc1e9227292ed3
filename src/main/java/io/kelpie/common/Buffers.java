package io.kelpie.common;

import io.netty.buffer.PooledByteBufAllocator;

/**
 * The one pooled allocator the NBD server, the peer server and the peer client share.
 *
 * <p>Its chunks are 16 MiB (maxOrder 11, netty's default before 4.1.76) instead of 4 MiB. netty
 * frees a chunk the moment its last buffer is released; with 1 MiB payloads in 4 MiB chunks that
 * happened all the time, and every new chunk was faulted in and zeroed again (35,000 page faults
 * a second on one node's 1 MiB writes, 475 in 5 s with 16 MiB chunks). The system property
 * {@code io.netty.allocator.maxOrder} still wins where it is set.
 */
public final class Buffers {
    private static final int MAX_ORDER = Integer.getInteger("io.netty.allocator.maxOrder", 11);

    public static final PooledByteBufAllocator ALLOCATOR = new PooledByteBufAllocator(
            true,
            PooledByteBufAllocator.defaultNumHeapArena(),
            PooledByteBufAllocator.defaultNumDirectArena(),
            PooledByteBufAllocator.defaultPageSize(),
            MAX_ORDER,
            PooledByteBufAllocator.defaultSmallCacheSize(),
            PooledByteBufAllocator.defaultNormalCacheSize(),
            PooledByteBufAllocator.defaultUseCacheForAllThreads());

    private Buffers() {
    }
}
