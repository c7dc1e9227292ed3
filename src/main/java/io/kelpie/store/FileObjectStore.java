package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.vdi.ObjectIds;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One sparse file per object under {@code DIR}, named by the object id in hex. Positional I/O
 * through cached {@link FileChannel}s; writes go to the page cache and become durable on
 * {@link #sync} or {@link #flush}, which fsync exactly the files (and the directory) made dirty.
 *
 * <p>{@link #tryReadCached} serves reads whose pages are resident without a system call beyond
 * mincore: an I/O thread that touched an object maps its file read-only (shared, so it sees every
 * pwrite at once), and a later read checks residency of its pages and copies from the mapping.
 */
public final class FileObjectStore implements ObjectStore {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20);
    /**
     * Large writes go to the file in pieces of this size. The kernel sizes a new page-cache folio
     * after the write that creates it, and ext4's write_begin walks every block of the folio: after
     * 1 MiB pwrites, each later 4 KiB write paid for 256 blocks (ext4_block_write_begin ~20% of the
     * node's CPU on randwrite4k). 0 writes in one piece.
     */
    static final int WRITE_PIECE = Integer.getInteger("kelpie.writePiece", 64 << 10);

    private final Path dir;
    private final ChannelCache channels;
    private final Set<Long> dirty = ConcurrentHashMap.newKeySet();
    private volatile boolean dirDirty;

    public FileObjectStore(Path dir) throws IOException {
        this(dir, 4096);
    }

    public FileObjectStore(Path dir, int maxOpenFiles) throws IOException {
        this.dir = Files.createDirectories(dir);
        this.channels = new ChannelCache(maxOpenFiles);
    }

    public Path dir() {
        return dir;
    }

    public Path pathOf(long oid) {
        return dir.resolve(ObjectIds.toHex(oid));
    }

    @Override
    public boolean read(long oid, long offset, ByteBuffer dst) throws IOException {
        ChannelCache.Handle h = open(oid, false);
        if (h == null) {
            fillZeros(dst);
            return false;
        }
        try {
            long pos = offset;
            while (dst.hasRemaining()) {
                int n = h.channel().read(dst, pos);
                if (n < 0) {
                    fillZeros(dst);
                    break;
                }
                pos += n;
            }
            h.mapCovering(pos);
            return true;
        } finally {
            h.release();
        }
    }

    @Override
    public boolean tryReadCached(long oid, long offset, ByteBuffer dst) {
        ChannelCache.Handle h = channels.acquire(oid);
        if (h == null) {
            return false;
        }
        try {
            MappedByteBuffer m = h.mapping();
            int n = dst.remaining();
            if (m == null || offset < 0 || offset + n > m.capacity()) {
                return false;
            }
            MappedByteBuffer region = m.slice((int) offset, n);
            if (!region.isLoaded()) {
                return false;
            }
            dst.put(region);
            return true;
        } finally {
            h.release();
        }
    }

    @Override
    public void write(long oid, long offset, ByteBuffer src) throws IOException {
        ChannelCache.Handle h = open(oid, true);
        try {
            dirty.add(oid);
            long pos = offset;
            int limit = src.limit();
            while (src.hasRemaining()) {
                if (WRITE_PIECE > 0) {
                    src.limit(Math.min(limit, src.position() + WRITE_PIECE));
                }
                pos += h.channel().write(src, pos);
                src.limit(limit);
            }
            h.mapCovering(pos);
        } catch (IOException e) {
            throw translate(e);
        } finally {
            h.release();
        }
    }

    @Override
    public void sync(long oid) throws IOException {
        if (dirDirty) {
            syncDir();
        }
        if (!dirty.remove(oid)) {
            return;
        }
        ChannelCache.Handle h = open(oid, false);
        if (h != null) {
            try {
                h.channel().force(false);
            } catch (IOException e) {
                dirty.add(oid);
                throw e;
            } finally {
                h.release();
            }
        }
    }

    @Override
    public void flush() throws IOException {
        for (Long oid : List.copyOf(dirty)) {
            sync(oid);
        }
        if (dirDirty) {
            syncDir();
        }
    }

    @Override
    public void zero(long oid, long offset, long length) throws IOException {
        ChannelCache.Handle h = open(oid, false);
        if (h == null) {
            return;
        }
        try {
            long size = h.channel().size();
            long end = Math.min(size, offset + length);
            dirty.add(oid);
            for (long pos = offset; pos < end; ) {
                ByteBuffer z = ZEROS.duplicate();
                z.limit((int) Math.min(z.capacity(), end - pos));
                pos += h.channel().write(z, pos);
            }
        } catch (IOException e) {
            throw translate(e);
        } finally {
            h.release();
        }
    }

    @Override
    public boolean remove(long oid) throws IOException {
        channels.evict(oid);
        dirty.remove(oid);
        boolean existed = Files.deleteIfExists(pathOf(oid));
        if (existed) {
            syncDir();
        }
        return existed;
    }

    @Override
    public boolean exists(long oid) {
        return Files.exists(pathOf(oid));
    }

    @Override
    public List<Long> list() throws IOException {
        List<Long> oids = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                if (name.length() == 16) {
                    try {
                        oids.add(ObjectIds.fromHex(name));
                    } catch (NumberFormatException ignored) {
                        // not an object file
                    }
                }
            }
        }
        return oids;
    }

    @Override
    public StoreStats stats() throws IOException {
        long used = 0;
        long count = 0;
        for (Long oid : list()) {
            try {
                used += Files.size(pathOf(oid));
                count++;
            } catch (NoSuchFileException ignored) {
                // removed meanwhile
            }
        }
        return new StoreStats(used, Files.getFileStore(dir).getUsableSpace(), count);
    }

    @Override
    public void close() throws IOException {
        flush();
        channels.close();
    }

    private ChannelCache.Handle open(long oid, boolean create) throws IOException {
        ChannelCache.Handle h = channels.acquire(oid);
        if (h != null) {
            return h;
        }
        Path p = pathOf(oid);
        FileChannel ch;
        try {
            ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            if (!create) {
                return null;
            }
            try {
                ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
            } catch (IOException ce) {
                throw translate(ce);
            }
            dirDirty = true;
        }
        return channels.put(oid, ch);
    }

    private synchronized void syncDir() throws IOException {
        dirDirty = false;
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            dirDirty = true;
            throw e;
        }
    }

    private static void fillZeros(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit(Math.min(z.capacity(), dst.remaining()));
            dst.put(z);
        }
    }

    static IOException translate(IOException e) {
        String m = e.getMessage();
        if (m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"))) {
            throw new KelpieException(Status.NO_SPACE, "no space left on the node's disk", e);
        }
        return e;
    }
}
