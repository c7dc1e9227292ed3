package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A full disk, as the file store handles it. A full disk is not a failed one: the node stays up
 * and serves reads, and a change that ran out of space leaves the object as a reader can take it.
 * A pwrite that runs out of space writes a prefix (the kernel returns a short count, the next one
 * fails), so a failed change may have replaced some of the range's bytes: the entries of those
 * blocks are set from what is now on the file (a read must not fail as rot), and the version is
 * not bumped (the write did not happen; a replica that stored it outranks this copy).
 */
final class NoSpace {
    private static final int BLOCK = ObjectStore.BLOCK_SIZE;

    private NoSpace() {
    }

    /** Whether {@code t} (or a cause) is a full disk or quota: ENOSPC, EDQUOT, or NO_SPACE already. */
    static boolean is(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof KelpieException k && k.status() == Status.NO_SPACE) {
                return true;
            }
            String m = c.getMessage();
            if (c instanceof IOException && m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /** How far writes from {@code offset} got: {@code before[i]} is {@code srcs[i]} as it was (null: not started). */
    static long reached(long offset, ByteBuffer[] before, ByteBuffer[] srcs) {
        long pos = offset;
        for (int i = 0; i < srcs.length && before[i] != null; i++) {
            pos += srcs[i].position() - before[i].position();
        }
        return pos;
    }

    /**
     * After a change of {@code [from, to)} failed part-way, under the object's lock: sets the
     * entries of the blocks it may have touched from the file. Only that range, so rot elsewhere
     * is still found. A failure to read them back is left to the caller's error.
     */
    static void settle(ChannelCache.Handle h, long from, long to) {
        if (to <= from) {
            return;
        }
        try {
            BlockTable t = h.table();
            for (long b = from / BLOCK, last = (to - 1) / BLOCK; b <= last; b++) {
                t.setEntry((int) b, Checksums.entry(Verify.readBlock(h.channel(), (int) b)));
            }
        } catch (IOException | RuntimeException ignored) {
            // the change failed anyway: its own error is what the caller reports
        }
    }

    /**
     * A change that failed on a full disk into an object no write ever reached (version 0, no
     * bytes: the write would have created it) leaves no empty object behind. Under the object's lock.
     */
    static void dropIfEmpty(FileObjectStore store, long oid) {
        try {
            ChannelCache.Handle h = store.channels().acquire(oid);
            if (h == null) {
                return;
            }
            boolean empty;
            try {
                empty = h.table().version() == 0 && h.channel().size() == 0;
            } finally {
                h.release();
            }
            if (empty) {
                store.remove(oid);
            }
        } catch (IOException | RuntimeException ignored) {
            // an empty object is harmless: it reads as zeros, and the next create replaces it
        }
    }
}
