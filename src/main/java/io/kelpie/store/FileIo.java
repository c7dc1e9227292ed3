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

    /** Writes all of {@code src} at {@code pos} in writes of at most {@code piece} bytes (0: one); the end. */
    static long writeInPieces(FileChannel ch, ByteBuffer src, long pos, int piece) throws IOException {
        int limit = src.limit();
        while (src.hasRemaining()) {
            if (piece > 0) {
                src.limit(Math.min(limit, src.position() + piece));
            }
            pos += ch.write(src, pos);
            src.limit(limit);
        }
        return pos;
    }

    /** Writes zeros over {@code [from, to)}. */
    static void writeZeros(FileChannel ch, long from, long to) throws IOException {
        for (long pos = from; pos < to; ) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit((int) Math.min(z.capacity(), to - pos));
            pos += ch.write(z, pos);
        }
    }

    static void fillZeros(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit(Math.min(z.capacity(), dst.remaining()));
            dst.put(z);
        }
    }

    /** Deletes a file if it is there; a failure is left to whoever next needs the name. */
    static void deleteQuietly(java.nio.file.Path p) {
        try {
            java.nio.file.Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the caller's own error is what counts
        }
    }

    /** A full disk as the client should hear of it (ENOSPC); other errors as they are. */
    static IOException translate(IOException e) {
        if (NoSpace.is(e)) {
            throw new KelpieException(Status.NO_SPACE, "no space left on the node's disk", e);
        }
        return e;
    }
}
