package io.kelpie.gateway;

import io.kelpie.peer.PeerTransport;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.store.ChecksumException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;

/**
 * Remote nodes without a network: each address serves the object opcodes against its own
 * {@link ReplicaStore}, the way ObjectOps does (create at version epoch << 32), on a worker
 * thread. REPAIR_OBJ goes to a pluggable handler (default: UNSUPPORTED, as before recovery lands).
 * Every request served is logged as "ADDRESS OPCODE OID" for tests to check.
 */
final class FakeNodes implements PeerTransport {
    private final Map<String, ReplicaStore> stores = new ConcurrentHashMap<>();
    private final Executor executor;
    final List<String> served = new CopyOnWriteArrayList<>();
    volatile BiFunction<String, Long, Status> repair = (address, oid) -> Status.UNSUPPORTED;

    FakeNodes(Executor executor) {
        this.executor = executor;
    }

    ReplicaStore add(String address, ReplicaStore store) {
        stores.put(address, store);
        return store;
    }

    boolean servedTo(String address, int opcode, long oid) {
        return served.contains(address + " " + PeerConstants.opcodeName(opcode) + " " + Long.toHexString(oid));
    }

    @Override
    public CompletableFuture<PeerResponse> send(String address, PeerRequest req, Duration timeout) {
        ReplicaStore store = stores.get(address);
        if (store == null) {
            req.release();
            return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR, "no node at " + address));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                served.add(address + " " + PeerConstants.opcodeName(req.opcode()) + " " + Long.toHexString(req.oid()));
                return serve(address, store, req);
            } catch (ChecksumException e) {
                return PeerResponse.error(req, req.epoch(), Status.CORRUPT, e.getMessage());
            } catch (IOException e) {
                return PeerResponse.error(req, req.epoch(), Status.IO_ERROR, "I/O error: " + e.getMessage());
            } finally {
                req.release();
            }
        }, executor);
    }

    private PeerResponse serve(String address, ReplicaStore store, PeerRequest req) throws IOException {
        boolean sync = req.hasFlag(PeerConstants.FLAG_SYNC);
        switch (req.opcode()) {
            case PeerConstants.READ_OBJ -> {
                ByteBuf buf = LocalGateway.readNow(store, io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, req.oid(),
                        req.offset(), req.length());
                return PeerResponse.ok(req, req.epoch(), buf);
            }
            case PeerConstants.WRITE_OBJ -> LocalGateway.writeNow(store, req.oid(), req.offset(), req.payload(), sync, false);
            case PeerConstants.CREATE_AND_WRITE_OBJ -> LocalGateway.createNow(store, req.oid(),
                    req.epoch() << 32, req.offset(), req.payload(), sync);
            case PeerConstants.ZERO_OBJ -> store.zero(req.oid(), req.offset(), Integer.toUnsignedLong(req.length()));
            case PeerConstants.REMOVE_OBJ -> store.remove(req.oid());
            case PeerConstants.FLUSH -> store.flush();
            case PeerConstants.REPAIR_OBJ -> {
                Status st = repair.apply(address, req.oid());
                if (st != Status.OK) {
                    return PeerResponse.error(req, req.epoch(), st, "repair: " + st.description());
                }
            }
            default -> {
                return PeerResponse.error(req, req.epoch(), Status.UNSUPPORTED, "fake node: " + req.opcode());
            }
        }
        return PeerResponse.ok(req, req.epoch(), Unpooled.EMPTY_BUFFER);
    }
}
