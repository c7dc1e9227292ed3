package io.kelpie.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A file channel on a disk with {@code room} bytes left (shared by every channel of one test),
 * failing as Linux does when it runs out: a write that does not fit writes what does and returns
 * the short count, the next one throws "No space left on device". Everything else is the real file's.
 */
final class FullDiskChannel extends FileChannel {
    private final FileChannel file;
    private final AtomicLong room;

    FullDiskChannel(FileChannel file, AtomicLong room) {
        this.file = file;
        this.room = room;
    }

    /** Data files of {@code store} opened from now on run out of space after {@code room} bytes. */
    static void install(FileObjectStore store, AtomicLong room) {
        store.files.opener = (p, options) -> new FullDiskChannel(FileChannel.open(p, options), room);
    }

    private int allowed(int wanted) throws IOException {
        while (true) {
            long left = room.get();
            if (left <= 0 && wanted > 0) {
                throw new IOException("No space left on device");
            }
            int n = (int) Math.min(left, wanted);
            if (room.compareAndSet(left, left - n)) {
                return n;
            }
        }
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        int n = allowed(src.remaining());
        int limit = src.limit();
        src.limit(src.position() + n);
        try {
            return file.write(src, position);
        } finally {
            src.limit(limit);
        }
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int n = write(src, file.position());
        file.position(file.position() + n);
        return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        long n = 0;
        for (int i = offset; i < offset + length; i++) {
            n += write(srcs[i]);
        }
        return n;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return file.read(dst, position);
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        file.truncate(size);
        return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        file.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        throw new UnsupportedOperationException("not used by the store");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return file.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
