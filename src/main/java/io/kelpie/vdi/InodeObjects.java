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

    /** The first {@code objectCount} entries of the VDI's table, as stored; all 0 for an inode object that is gone. */
    int[] loadEntries(Inode in) {
        return loadEntries(in, true);
    }

    /** {@link #loadEntries(Inode)}; an inode object that is gone reads as all 0 only if {@code missingIsEmpty}. */
    int[] loadEntries(Inode in, boolean missingIsEmpty) {
        int n = (int) Math.min(Inode.MAX_DATA_OBJECTS, in.objectCount());
        int[] out = new int[n];
        ByteBuf raw;
        try {
            raw = join(gateway.read(in.inodeOid(), in.copies(), InodeCodec.TABLE_OFFSET, Math.max(4, n * 4)));
        } catch (KelpieException e) {
            if (e.status() == Status.NO_OBJECT && missingIsEmpty) {
                return out; // an earlier reclaim removed it
            }
            throw e;
        }
        try {
            for (int i = 0; i < n && raw.readableBytes() >= 4; i++) {
                out[i] = raw.readIntLE();
            }
        } finally {
            raw.release();
        }
        return out;
    }

    /**
     * Creates a new inode object with its table in one write: a snapshot's, clone's or rollback's new
     * VDI, whose table is its source's copied (so that it shares every object until written).
     */
    void createWithTable(Inode in, int[] entries) {
        ByteBuf all = Unpooled.buffer((int) InodeCodec.TABLE_OFFSET + 4 * entries.length);
        all.writeZero((int) InodeCodec.TABLE_OFFSET);
        all.setBytes((int) InodeCodec.slotOffset(in.version()), InodeCodec.encodeHeader(in));
        for (int e : entries) {
            all.writeIntLE(e);
        }
        join(gateway.create(in.inodeOid(), in.copies(), 0, all, true));
    }

    /** Rewrites the first {@code entries.length} table entries (a reclaim clearing what it freed). */
    void writeTable(Inode in, int[] entries) {
        ByteBuf t = Unpooled.buffer(4 * entries.length);
        for (int e : entries) {
            t.writeIntLE(e);
        }
        join(gateway.write(in.inodeOid(), in.copies(), InodeCodec.TABLE_OFFSET, t, true));
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
