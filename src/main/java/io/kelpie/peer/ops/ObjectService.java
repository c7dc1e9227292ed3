package io.kelpie.peer.ops;

import io.kelpie.store.ObjectStore;
import io.netty.buffer.ByteBufAllocator;

import java.util.concurrent.CompletableFuture;

/** What the object opcodes need of the node: its local replica, its epoch and the recovery gate in front of it. */
public interface ObjectService {
    /** This node's object store. */
    ObjectStore store();

    ByteBufAllocator alloc();

    /** The node's current epoch (0 while it has not joined). */
    long epoch();

    /**
     * Completes once this node's copy of {@code oid} is current (recovered from the other holders
     * if it lacks it or holds an older version); at once while recovery is not running yet.
     */
    CompletableFuture<Void> ensureLocal(long oid);

    /** Completes once no background fetch of {@code oid} can land any more (before a create or remove). */
    CompletableFuture<Void> claim(long oid);
}
