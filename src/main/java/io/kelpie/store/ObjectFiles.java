package io.kelpie.store;

import io.kelpie.common.ObjectIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * The files of {@link FileObjectStore}'s objects: opening (and upgrading old objects), listing,
 * and the whole-object operations: create, install, move, and putting the directory in order
 * when a store opens.
 *
 * <p>An install replaces two files (data and table), which no single rename can do, so it commits
 * with a third name: it writes {@code <hex>.new} and {@code <hex>.meta.tmp}, fsyncs both, renames
 * the table to {@code <hex>.meta.new} and fsyncs the directory (the commit), then renames both
 * into place. A store that opens after a crash rolls a committed install forward (a
 * {@code .meta.new} exists) and throws an uncommitted one away, so it sees the old object or the
 * new one. This relies on the file system making the metadata operations of one directory durable
 * in order, as ext4 and xfs journal them.
 */
final class ObjectFiles {
    private static final Logger log = LoggerFactory.getLogger(ObjectFiles.class);
    private static final int BLOCK = ObjectStore.BLOCK_SIZE;
    static final String NEW_DATA = ".new";
    static final String NEW_META = ".meta.tmp";
    static final String COMMIT = ".meta.new";

    private final FileObjectStore store;
    private final AtomicLong upgraded = new AtomicLong();

    /** Opens objects' data files: tests put a channel in between that runs out of space. */
    interface Opener {
        FileChannel open(Path p, OpenOption... options) throws IOException;
    }

    volatile Opener opener = FileChannel::open;

    ObjectFiles(FileObjectStore store) {
        this.store = store;
    }

    private Path sibling(long oid, String suffix) {
        return store.dir().resolve(ObjectIds.toHex(oid) + suffix);
    }

    /** Opens the object's files and caches them (creating a fresh object with {@code create}); null when absent. */
    ChannelCache.Handle open(long oid, boolean create) throws IOException {
        Lock held = store.lock(oid);
        held.lock();
        try {
            ChannelCache.Handle h = store.channels().acquire(oid);
            if (h != null) {
                return h;
            }
            Path p = store.pathOf(oid);
            FileChannel ch;
            BlockTable table = null;
            try {
                ch = opener.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (NoSuchFileException e) {
                if (!create) {
                    return null;
                }
                store.reserve.take(oid, BlockTable.INITIAL_SIZE, true); // the new table's blocks
                try {
                    // the table first: a crash before the data file leaves only an orphan table
                    table = BlockTable.create(store.metaPathOf(oid), 0, new int[0]);
                    ch = opener.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                } catch (IOException ce) {
                    if (table != null) {
                        table.close();
                    }
                    discard(store.metaPathOf(oid)); // a full disk: no orphan table left to fill it further
                    throw FileIo.translate(ce);
                } finally {
                    store.reserve.done(BlockTable.INITIAL_SIZE);
                }
                store.markDirty(oid);
            }
            try {
                if (table == null) {
                    table = openTable(oid, ch);
                }
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            return store.channels().put(oid, ch, table);
        } finally {
            held.unlock();
        }
    }

    /** Ids of the objects in the directory: names of 16 hex digits (tables and temporary files have suffixes). */
    List<Long> list() throws IOException {
        List<Long> oids = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(store.dir())) {
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

    ObjectStore.StoreStats stats() throws IOException {
        long used = 0;
        long count = 0;
        for (Long oid : list()) {
            try {
                used += Files.size(store.pathOf(oid));
                count++;
            } catch (NoSuchFileException ignored) {
                // removed meanwhile
            }
        }
        return new ObjectStore.StoreStats(used, Files.getFileStore(store.dir()).getUsableSpace(), count);
    }

    void create(long oid, long version) throws IOException {
        Lock held = store.lock(oid);
        held.lock();
        try {
            store.remove(oid);
            store.reserve.take(oid, BlockTable.INITIAL_SIZE, true);
            try {
                BlockTable t = BlockTable.create(store.metaPathOf(oid), version, new int[0]);
                t.close();
                Files.newByteChannel(store.pathOf(oid), StandardOpenOption.CREATE, StandardOpenOption.WRITE).close();
            } catch (IOException e) {
                discard(store.pathOf(oid), store.metaPathOf(oid)); // no half-made object (a full disk)
                throw FileIo.translate(e);
            } finally {
                store.reserve.done(BlockTable.INITIAL_SIZE);
            }
            store.markDirty(oid);
        } finally {
            held.unlock();
        }
    }

    void install(long oid, long version, ByteBuffer content) throws IOException {
        install(oid, version, content.remaining(), null, content);
    }

    /**
     * With {@code known} (entries) null, {@code content} is the whole object and its entries are computed;
     * otherwise they are given and {@code content} holds only the non-zero blocks (packed).
     */
    void install(long oid, long version, int length, int[] known, ByteBuffer content) throws IOException {
        if (known != null) {
            Checksums.checkPacked(length, known, content);
        }
        // A whole new copy before the old one goes (recovery, repair): a data object's must leave the reserve.
        long taken = content.remaining() + BlockTable.INITIAL_SIZE;
        store.reserve.take(oid, taken, true);
        Lock held = store.lock(oid);
        held.lock();
        try {
            Path data = sibling(oid, NEW_DATA);
            Path meta = sibling(oid, NEW_META);
            Path commit = sibling(oid, COMMIT);
            try {
                int[] entries;
                try (FileChannel ch = FileChannel.open(data, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
                    entries = known == null ? writeSparse(ch, content.duplicate()) : writePacked(ch, known, content.duplicate());
                    ch.force(false);
                }
                try (FileChannel ch = FileChannel.open(meta, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
                    BlockTable.writeImage(ch, version, entries);
                    ch.force(false);
                }
                Files.move(meta, commit, StandardCopyOption.ATOMIC_MOVE);
                store.syncDir();
            } catch (IOException e) {
                discard(commit, meta, data);
                throw FileIo.translate(e);
            } catch (RuntimeException e) {
                discard(commit, meta, data);
                throw e;
            }
            store.evict(oid);
            rollForward(oid);
            store.markDirty(oid); // the renames: a crash before the next directory sync redoes them
        } finally {
            store.reserve.done(taken);
            held.unlock();
        }
    }

    private static void discard(Path... files) {
        for (Path p : files) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // the next open of the store removes it
            }
        }
    }

    /** Writes the non-zero blocks of {@code content} from offset 0, in pieces, and returns its entries. */
    private static int[] writeSparse(FileChannel ch, ByteBuffer content) throws IOException {
        int[] entries = Checksums.entries(content);
        int base = content.position();
        int piece = FileObjectStore.WRITE_PIECE > 0 ? FileObjectStore.WRITE_PIECE : Integer.MAX_VALUE;
        for (int from = 0, b; from < entries.length; from = b) {
            b = runEnd(entries, from, piece / BLOCK);
            if (b == from) {
                b++; // a hole: nothing to write
                continue;
            }
            int start = base + from * BLOCK;
            ByteBuffer run = content.duplicate().position(start).limit(Math.min(content.limit(), base + b * BLOCK));
            for (long pos = (long) from * BLOCK; run.hasRemaining(); ) {
                pos += ch.write(run, pos);
            }
        }
        return entries;
    }

    /** Writes the packed non-zero blocks to their places, in runs of at most a write piece; returns the entries. */
    private static int[] writePacked(FileChannel ch, int[] entries, ByteBuffer packed) throws IOException {
        int piece = FileObjectStore.WRITE_PIECE > 0 ? FileObjectStore.WRITE_PIECE : Integer.MAX_VALUE;
        for (int from = 0, b; from < entries.length; from = b) {
            b = runEnd(entries, from, piece / BLOCK);
            if (b == from) {
                b++; // a hole: nothing to write
                continue;
            }
            // the run is (b - from) blocks, the last one cut where the packed bytes end
            int len = (int) Math.min((long) (b - from) * BLOCK, packed.remaining());
            ByteBuffer run = packed.duplicate().limit(packed.position() + len);
            packed.position(packed.position() + len);
            for (long pos = (long) from * BLOCK; run.hasRemaining(); ) {
                pos += ch.write(run, pos);
            }
        }
        return entries;
    }

    /**
     * The end (exclusive) of the run of non-zero entries starting at {@code from}, at most
     * {@code maxBlocks} long (and at least one block); {@code from} itself when it is a hole.
     */
    static int runEnd(int[] entries, int from, int maxBlocks) {
        int b = from;
        while (b < entries.length && entries[b] != 0 && (b == from || b - from < maxBlocks)) {
            b++;
        }
        return b;
    }

    /** Finishes a committed install: data, then table, into place (each step idempotent). */
    private void rollForward(long oid) throws IOException {
        Path data = sibling(oid, NEW_DATA);
        if (Files.exists(data)) {
            Files.move(data, store.pathOf(oid), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(sibling(oid, COMMIT), store.metaPathOf(oid), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    void moveTo(long oid, FileObjectStore dest) throws IOException {
        Lock held = store.lock(oid);
        held.lock();
        try {
            store.sync(oid); // durable (and a table made) before the renames
            dest.remove(oid);
            store.evict(oid);
            // data first: a crash in between leaves it without its table, which is then taken as it is
            Files.move(store.pathOf(oid), dest.pathOf(oid), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            if (Files.exists(store.metaPathOf(oid))) {
                Files.move(store.metaPathOf(oid), dest.metaPathOf(oid), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            }
            dest.syncDir();
            store.syncDir();
        } finally {
            held.unlock();
        }
    }

    /**
     * The table of an object being opened; an object without one (written before checksums, or
     * moved without its table by a crash) is taken as it is: version 1, entries from its bytes.
     * Under the object's lock.
     */
    BlockTable openTable(long oid, FileChannel data) throws IOException {
        BlockTable t = BlockTable.open(store.metaPathOf(oid));
        if (t != null) {
            if (t.version() < 0) {
                log.warn("object {}: both version slots of its table are unreadable; taking version 1",
                        ObjectIds.toHex(oid));
                t.setVersion(1);
                store.markDirty(oid);
            }
            return t;
        }
        if (upgraded.getAndIncrement() == 0) {
            log.info("{}: objects without version and checksums (from an older Kelpie) get them as they are opened",
                    store.dir());
        }
        t = BlockTable.create(store.metaPathOf(oid), 1, Verify.entries(data));
        store.markDirty(oid);
        return t;
    }

    /** Puts the directory in order after a crash: committed installs forward, the rest of them away. */
    void recover() throws IOException {
        int forward = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(store.dir(), "*" + COMMIT)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                try {
                    rollForward(ObjectIds.fromHex(name.substring(0, name.length() - COMMIT.length())));
                    forward++;
                } catch (NumberFormatException notOurs) {
                    // not an object's file
                }
            }
        }
        int dropped = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(store.dir(), "*.{new,tmp,meta}")) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                boolean orphanTable = name.endsWith(".meta")
                        && !Files.exists(store.dir().resolve(name.substring(0, name.length() - 5)));
                if (!name.endsWith(".meta") || orphanTable) {
                    Files.deleteIfExists(p);
                    dropped++;
                }
            }
        }
        if (forward + dropped > 0) {
            store.syncDir();
            log.info("{}: finished {} interrupted install(s), removed {} leftover file(s)", store.dir(), forward, dropped);
        }
    }
}
