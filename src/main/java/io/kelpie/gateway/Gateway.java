package io.kelpie.gateway;

import io.kelpie.store.FileSlice;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;

/**
 * Object I/O as a VDI sees it: every call names an object and how many copies it has, and the
 * gateway finds the replicas (the local store on a single node; the ring's nodes in a cluster).
 * Writes complete when every replica has the data; reads are served by one replica.
 *
 * <p>Buffers passed in stay owned by the caller, who may release them once the future completes.
 * Buffers returned are owned by the receiver.
 */
public interface Gateway extends AutoCloseable {

    /** Reads {@code length} bytes at {@code offset}; never-written bytes read as zeros. */
    CompletableFuture<ByteBuf> read(long oid, int copies, long offset, int length);

    /**
     * The range as a verified slice of this node's own copy of the object ({@link FileSlice}), for
     * a connection that can send it without copying; the receiver closes it. Null where there is no
     * such slice (no current local copy, a hole, not a file store): the caller uses {@link #read},
     * which also decides what a failure here means.
     */
    default CompletableFuture<FileSlice> readSlice(long oid, int copies, long offset, int length) {
        return CompletableFuture.completedFuture(null);
    }

    /** Writes {@code data} into an existing object (created if absent). {@code sync}: durable before completion. */
    CompletableFuture<Void> write(long oid, int copies, long offset, ByteBuf data, boolean sync);

    /**
     * Creates the object afresh, discarding any previous content (an orphan left by a crash, say),
     * and writes {@code data} at {@code offset}; all other bytes read as zeros.
     */
    CompletableFuture<Void> create(long oid, int copies, long offset, ByteBuf data, boolean sync);

    /** Zeroes a range of an object; no-op for an absent object. */
    CompletableFuture<Void> zero(long oid, int copies, long offset, long length, boolean sync);

    /** Removes the object from every replica. */
    CompletableFuture<Void> remove(long oid, int copies);

    /** Makes every write completed so far, on every node, durable. */
    CompletableFuture<Void> flush();

    @Override
    void close();
}
