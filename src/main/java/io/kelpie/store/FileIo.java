package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** The file-level helpers the file store's classes share. */
final class FileIo {
    /** A read-only source of zeros for holes and zeroed ranges (duplicate it, never write it). */
    static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20);

    private FileIo() {
    }

    /** Fills {@code dst} from {@code pos}; bytes past the end of the file read as zeros. */
    static void readFully(FileChannel ch, long pos, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                fillZeros(dst);
                break;
            }
            pos += n;
        }
    }

    static void fillZeros(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit(Math.min(z.capacity(), dst.remaining()));
            dst.put(z);
        }
    }

    /** A full disk as the client should hear of it (ENOSPC); other errors as they are. */
    static IOException translate(IOException e) {
        String m = e.getMessage();
        if (m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"))) {
            throw new KelpieException(Status.NO_SPACE, "no space left on the node's disk", e);
        }
        return e;
    }
}
