package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.WireReader;
import io.kelpie.vdi.Vdi;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * VDI_READ and VDI_WRITE: byte ranges of a VDI for {@code vdi read/write}, one chunk per request.
 * The VDI is opened for the request (blocking, on the admin executor); concurrent chunks share the
 * open handle, and the I/O itself is asynchronous.
 */
final class VdiIoOps {
    private VdiIoOps() {
    }

    /** VDI_READ(name; offset, length) -> the bytes. */
    static final PeerOp<VdiService> READ = (service, req, ex) -> {
        if (req.length() < 0 || req.length() > PeerConstants.MAX_PAYLOAD) {
            return CompletableFuture.failedFuture(new KelpieException(Status.TOO_BIG, "read of "
                    + Integer.toUnsignedString(req.length()) + " bytes exceeds the limit of " + PeerConstants.MAX_PAYLOAD));
        }
        String name = new WireReader(req.payload().duplicate()).string();
        return withVdi(service.vdis()::open, name, ex, vdi -> vdi.read(req.offset(), req.length()));
    };

    /** VDI_WRITE(name, then the data; offset; SYNC). */
    static final PeerOp<VdiService> WRITE = (service, req, ex) -> {
        ByteBuf p = req.payload().duplicate();
        String name = new WireReader(p).string();
        return withVdi(service.vdis()::open, name, ex, vdi -> vdi.write(req.offset(), p, req.hasFlag(PeerConstants.FLAG_SYNC))
                .thenApply(v -> Unpooled.EMPTY_BUFFER));
    };

    /**
     * VDI_TRIM(name, i64 length; offset): whole objects in the range are freed (their table entries
     * cleared, their own objects removed), partial ones read back as zeros. Through the open
     * handle, so it is ordered with this node's writes and holds the VDI's claim like they do.
     */
    static final PeerOp<VdiService> TRIM = (service, req, ex) -> {
        WireReader r = new WireReader(req.payload().duplicate());
        String name = r.string();
        long length = r.i64();
        return withVdi(service.vdis()::open, name, ex, vdi -> vdi.trim(req.offset(), length, true)
                .thenApply(v -> Unpooled.EMPTY_BUFFER));
    };

    private static CompletableFuture<ByteBuf> withVdi(Function<String, Vdi> open, String name, Executor ex,
                                                      Function<Vdi, CompletableFuture<ByteBuf>> io) {
        return CompletableFuture.supplyAsync(() -> open.apply(name), ex).thenCompose(vdi -> {
            CompletableFuture<ByteBuf> f;
            try {
                f = io.apply(vdi);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            // release on the admin executor: the last release is a cluster round trip, which must not stall I/O threads
            return f.whenCompleteAsync((r, err) -> vdi.close(), ex);
        });
    }
}
