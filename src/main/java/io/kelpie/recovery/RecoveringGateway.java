package io.kelpie.recovery;

import io.kelpie.gateway.LocalReplica;
import io.kelpie.store.FileSlice;
import io.netty.buffer.ByteBuf;

import java.util.concurrent.CompletableFuture;

/**
 * The local replica as the replicated gateway uses it: every read or change of an object first
 * makes the local copy current ({@link ObjectRecovery#ensureLocal}; no round trip once the object
 * is confirmed in the epoch), and creates and removes claim the object so that background
 * recovery cannot bring old content back over them. The one place client I/O meets recovery.
 */
public final class RecoveringGateway implements LocalReplica {
    private final LocalReplica local;
    private final ObjectRecovery recovery;

    public RecoveringGateway(LocalReplica local, ObjectRecovery recovery) {
        this.local = local;
        this.recovery = recovery;
    }

    @Override
    public CompletableFuture<ByteBuf> read(long oid, int copies, long offset, int length) {
        return recovery.ensureLocal(oid).thenCompose(v -> local.read(oid, copies, offset, length));
    }

    @Override
    public CompletableFuture<FileSlice> readSlice(long oid, int copies, long offset, int length) {
        return recovery.ensureLocal(oid).thenCompose(v -> local.readSlice(oid, copies, offset, length));
    }

    @Override
    public CompletableFuture<Void> write(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        return recovery.ensureLocal(oid).thenCompose(v -> local.write(oid, copies, offset, data, sync));
    }

    @Override
    public CompletableFuture<Void> create(long oid, int copies, long offset, ByteBuf data, boolean sync) {
        return recovery.claim(oid).thenCompose(v -> local.create(oid, copies, offset, data, sync));
    }

    @Override
    public CompletableFuture<Void> createAt(long oid, long version, long offset, ByteBuf data, boolean sync) {
        return recovery.claim(oid).thenCompose(v -> local.createAt(oid, version, offset, data, sync));
    }

    @Override
    public CompletableFuture<Void> zero(long oid, int copies, long offset, long length, boolean sync) {
        return recovery.ensureLocal(oid).thenCompose(v -> local.zero(oid, copies, offset, length, sync));
    }

    @Override
    public CompletableFuture<Void> remove(long oid, int copies) {
        return recovery.claim(oid).thenCompose(v -> local.remove(oid, copies));
    }

    @Override
    public CompletableFuture<Void> flush() {
        return local.flush();
    }

    @Override
    public void close() {
        local.close();
    }
}
