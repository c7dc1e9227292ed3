package io.kelpie.gateway;

import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;

/**
 * This node's own replica as the replicated gateway uses it: a {@link Gateway} over the local
 * store (with recovery in front of it) that can also create an object at a given base version.
 */
public interface LocalReplica extends Gateway {
    /** {@link #create} at base version {@code version}: the object is then {@code version + 1}. */
    CompletableFuture<Void> createAt(long oid, long version, long offset, ByteBuf data, boolean sync);
}
