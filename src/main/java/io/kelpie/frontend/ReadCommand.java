package io.kelpie.frontend;

import io.kelpie.nbd.NbdDataChunk;
import io.kelpie.nbd.NbdFileReply;
import io.kelpie.nbd.NbdHoleChunk;
import io.kelpie.nbd.NbdReply;
import io.kelpie.nbd.NbdRequest;
import io.kelpie.nbd.NbdSession;
import io.kelpie.nbd.NbdSimpleReply;
import io.kelpie.store.FileSlice;
import io.kelpie.vdi.Vdi;
import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.kelpie.nbd.NbdConstants.NBD_CMD_FLAG_DF;

/**
 * NBD_CMD_READ. With structured replies and without DF, unallocated ranges go out as OFFSET_HOLE
 * chunks and only allocated ranges are read. Chunks are sent once every part is read, so DONE marks
 * the last chunk and an error replaces them all.
 *
 * <p>{@link #ZERO_COPY} (connections without TLS) sends a large read that lies in one object of
 * this node's store straight from the file, verified ({@link Vdi#readSlice}): the copy into a
 * buffer was a third of a 1 MiB read's CPU.
 */
final class ReadCommand implements NbdCommand {
    static final ReadCommand COPY = new ReadCommand(false);
    static final ReadCommand ZERO_COPY = new ReadCommand(true);
    /** Smaller reads are cheaper copied: sendfile costs a system call of its own after the header's. */
    static final int SLICE_MIN = Integer.getInteger("kelpie.sliceReadMin", 256 << 10);

    private final boolean zeroCopy;

    private ReadCommand(boolean zeroCopy) {
        this.zeroCopy = zeroCopy;
    }

    @Override
    public CompletableFuture<List<NbdReply>> execute(NbdRequest req, NbdSession session, Vdi vdi) {
        long cookie = req.cookie();
        long offset = req.offset();
        int length = (int) req.length();
        boolean structured = session.structuredReplies();
        if (zeroCopy && length >= SLICE_MIN) {
            // no slice, or a failure getting one: the copied read decides (it fails over and repairs)
            return vdi.readSlice(offset, length).handle((slice, err) -> slice != null
                    ? CompletableFuture.completedFuture(List.of(fileReply(cookie, structured, offset, slice)))
                    : copied(req, session, vdi)).thenCompose(f -> f);
        }
        return copied(req, session, vdi);
    }

    private static NbdReply fileReply(long cookie, boolean structured, long offset, FileSlice slice) {
        SliceRegion data = new SliceRegion(slice);
        return structured ? NbdFileReply.chunk(cookie, true, offset, data) : NbdFileReply.simple(cookie, data);
    }

    private static CompletableFuture<List<NbdReply>> copied(NbdRequest req, NbdSession session, Vdi vdi) {
        long cookie = req.cookie();
        long offset = req.offset();
        int length = (int) req.length();
        if (!session.structuredReplies()) {
            return vdi.read(offset, length).thenApply(data -> List.of(new NbdSimpleReply(cookie, 0, data)));
        }
        if (req.hasFlag(NBD_CMD_FLAG_DF)) {
            return vdi.read(offset, length).thenApply(data -> List.of(new NbdDataChunk(cookie, true, offset, data)));
        }
        List<Vdi.Extent> extents = vdi.extents(offset, length);
        if (extents.size() == 1) {
            Vdi.Extent e = extents.get(0);
            return e.allocated()
                    ? vdi.read(offset, length).thenApply(data -> List.of(new NbdDataChunk(cookie, true, offset, data)))
                    : CompletableFuture.completedFuture(List.of(new NbdHoleChunk(cookie, true, offset, length)));
        }
        List<CompletableFuture<ByteBuf>> parts = new ArrayList<>(extents.size());
        for (Vdi.Extent e : extents) {
            parts.add(e.allocated() ? vdi.read(e.offset(), (int) e.length()) : null);
        }
        CompletableFuture<?>[] reads = parts.stream().filter(p -> p != null).toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(reads).handle((v, err) -> {
            if (err != null) {
                for (CompletableFuture<ByteBuf> p : parts) {
                    if (p != null) {
                        p.thenAccept(ByteBuf::release);
                    }
                }
                throw err instanceof RuntimeException re ? re : new RuntimeException(err);
            }
            List<NbdReply> out = new ArrayList<>(extents.size());
            for (int i = 0; i < extents.size(); i++) {
                Vdi.Extent e = extents.get(i);
                boolean done = i == extents.size() - 1;
                CompletableFuture<ByteBuf> p = parts.get(i);
                out.add(p != null ? new NbdDataChunk(cookie, done, e.offset(), p.join())
                        : new NbdHoleChunk(cookie, done, e.offset(), (int) e.length()));
            }
            return out;
        });
    }
}
