package io.kelpie.store;

import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A range of an object's file whose blocks were verified against their checksums, held open until
 * {@link #close}d: for a transport that sends it straight from the page cache (sendfile) instead of
 * copying it through a buffer. Verifying reads the range, so its pages are resident when it goes
 * out; a page dropped and re-read from the disk in between would go unchecked, a window of the
 * send's duration, on pages just read.
 */
public final class FileSlice implements AutoCloseable {
    private final FileChannel channel;
    private final long position;
    private final int length;
    private final Runnable release;
    private final AtomicBoolean closed = new AtomicBoolean();

    public FileSlice(FileChannel channel, long position, int length, Runnable release) {
        this.channel = channel;
        this.position = position;
        this.length = length;
        this.release = release;
    }

    /** Open until {@link #close}; never closed by the slice's user. */
    public FileChannel channel() {
        return channel;
    }

    public long position() {
        return position;
    }

    public int length() {
        return length;
    }

    /** Gives the file back; once, however often called. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release.run();
        }
    }
}
