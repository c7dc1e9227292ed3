package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/** Runs blocking op bodies on an executor, turning plain I/O failures into IO_ERROR. */
final class Blocking {
    private Blocking() {
    }

    interface Body {
        ByteBuf run() throws Exception;
    }

    interface VoidBody {
        void run() throws Exception;
    }

    static CompletableFuture<ByteBuf> on(Executor executor, Body body) {
        CompletableFuture<ByteBuf> f = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    f.complete(body.run());
                } catch (KelpieException e) {
                    f.completeExceptionally(e);
                } catch (io.kelpie.store.ChecksumException e) {
                    f.completeExceptionally(new KelpieException(Status.CORRUPT, e.getMessage(), e));
                } catch (Exception e) {
                    f.completeExceptionally(new KelpieException(Status.IO_ERROR, "I/O error: " + KelpieException.messageOf(e), e));
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(new KelpieException(Status.SHUTDOWN, "node is shutting down"));
        }
        return f;
    }

    static CompletableFuture<ByteBuf> noResult(Executor executor, VoidBody body) {
        return on(executor, () -> {
            body.run();
            return Unpooled.EMPTY_BUFFER;
        });
    }
}
