package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Inode objects read and written through the gateway, in {@link InodeCodec}'s layout. Blocking. */
final class InodeObjects {
    private final Gateway gateway;

    InodeObjects(Gateway gateway) {
        this.gateway = gateway;
    }

    /** Writes a header into the slot of its version, leaving the other slot (the previous header) alone. */
    void writeHeader(Inode in, boolean sync) {
        ByteBuf slot = Unpooled.wrappedBuffer(InodeCodec.encodeHeader(in));
        join(gateway.write(in.inodeOid(), in.copies(), InodeCodec.slotOffset(in.version()), slot, sync));
    }

    /** Creates the inode object afresh: an id can be reused after a delete, and nothing of the old inode may survive. */
    void createHeader(Inode in) {
        ByteBuf slot = Unpooled.wrappedBuffer(InodeCodec.encodeHeader(in));
        join(gateway.create(in.inodeOid(), in.copies(), InodeCodec.slotOffset(in.version()), slot, true));
    }

    Inode readHeader(long oid, int copies) {
        ByteBuf both = join(gateway.read(oid, copies, 0, 2 * InodeCodec.SLOT_SIZE));
        try {
            return InodeCodec.decodeHeader(both.nioBuffer(), oid);
        } finally {
            both.release();
        }
    }

    /** The VDI's allocation table; the caller closes it. */
    InodeTable loadTable(Inode in) {
        InodeTable table = new InodeTable(Inode.MAX_DATA_OBJECTS);
        int bytes = (int) Math.min((long) Inode.MAX_DATA_OBJECTS, Math.max(1, in.objectCount())) * 4;
        ByteBuf raw = join(gateway.read(in.inodeOid(), in.copies(), InodeCodec.TABLE_OFFSET, bytes));
        try {
            table.load(raw);
        } catch (RuntimeException e) {
            table.close();
            throw e;
        } finally {
            raw.release();
        }
        return table;
    }

    /** Waits for a gateway future, rethrowing its failure as the KelpieException it carries. */
    static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            if (c instanceof KelpieException ke) {
                throw ke;
            }
            throw new KelpieException(Status.IO_ERROR, KelpieException.messageOf(c), c);
        }
    }
}
