package io.kelpie.store;

import io.kelpie.common.ObjectIds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.kelpie.store.FullDiskTest.assertNoSpace;
import static io.kelpie.store.FullDiskTest.random;
import static io.kelpie.store.FullDiskTest.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The file store with a reserve, on a file system whose free space the test sets: data writes
 * that would allocate into it are refused (nothing left behind), and everything that frees space
 * or keeps the node's books still goes on.
 */
@Timeout(30)
class ReserveStoreTest {
    static final long MiB = 1 << 20;
    static final long RESERVE = 4 * MiB;
    static final long DATA = ObjectIds.dataOid(0x2a, 0);
    static final long INODE = ObjectIds.inodeOid(0x2a);

    @TempDir
    Path dir;
    final AtomicLong free = new AtomicLong(1L << 40);
    final AtomicLong now = new AtomicLong();
    FileObjectStore store;

    @BeforeEach
    void open() throws IOException {
        store = new FileObjectStore(dir.resolve("objects"), 64, new SpaceReserve(free::get, RESERVE, now::get));
    }

    @AfterEach
    void close() throws IOException {
        store.close();
    }

    /** The disk has {@code bytes} free, as the next write's measure will see. */
    void diskHas(long bytes) {
        free.set(bytes);
        now.addAndGet(SpaceReserve.MEASURE_NANOS);
    }

    @Test
    void dataWritesThatAllocateStopAtTheReserveOverwritesAndInodesGoOn() throws IOException {
        byte[] data = random(8192, 1);
        store.write(DATA, 0, ByteBuffer.wrap(data));
        diskHas(RESERVE + 4096);
        assertNoSpace(() -> store.write(DATA, 8192, ByteBuffer.wrap(random(8192, 2)))); // two new blocks
        assertNoSpace(() -> store.write(DATA + 1, 0, ByteBuffer.wrap(data))); // a new object
        assertFalse(store.exists(DATA + 1), "a refused create leaves no object");
        assertEquals(1, store.version(DATA), "a refused write counts no version");

        diskHas(0); // a disk the reserve did not keep (another program filled it): overwrites still fit
        byte[] over = random(8192, 3);
        store.write(DATA, 0, ByteBuffer.wrap(over));
        assertTrue(store.tryWrite(DATA, 0, ByteBuffer.wrap(over, 0, 4096)), "an overwrite on an event loop");
        assertArrayEquals(over, read(store, DATA, 8192));

        diskHas(RESERVE + 4096); // inode objects are the node's books: created down to half the reserve
        store.create(INODE, 1);
        byte[] header = random(4096, 4);
        store.write(INODE, 4096, ByteBuffer.wrap(header));
        diskHas(RESERVE / 2 - 1);
        store.write(INODE, 0, ByteBuffer.wrap(header)); // a delete's header, into the other slot
        assertArrayEquals(header, Arrays.copyOfRange(read(store, INODE, 8192), 0, 4096));
        assertNoSpace(() -> store.create(INODE + (1L << 32), 1)); // a new VDI's inode: not below half
        assertNoSpace(() -> store.write(INODE + (2L << 32), 0, ByteBuffer.wrap(header)));
        assertFalse(store.exists(INODE + (2L << 32)));
    }

    @Test
    void installsOfDataCopiesLeaveTheReserveInodeCopiesNeedHalf() throws IOException {
        diskHas(RESERVE + MiB);
        assertNoSpace(() -> store.install(DATA, 5, ByteBuffer.wrap(random((int) MiB, 5))));
        assertFalse(store.exists(DATA));
        byte[] inode = random(12288, 6);
        store.install(INODE, 5, ByteBuffer.wrap(inode));
        assertArrayEquals(inode, read(store, INODE, inode.length));
        assertEquals(5, store.version(INODE));
    }

    @Test
    void anEventLoopWriteThatMustMeasureHandsOverAndARemovalLetsWritesGoOnAtOnce() throws IOException {
        byte[] data = random(4096, 7);
        store.write(DATA, 0, ByteBuffer.wrap(data));
        store.write(DATA + 1, 0, ByteBuffer.wrap(data));
        now.addAndGet(SpaceReserve.MEASURE_NANOS);
        assertFalse(store.tryWrite(DATA, 4096, ByteBuffer.wrap(data)), "a due measure is not the event loop's");
        store.write(DATA, 4096, ByteBuffer.wrap(data)); // the I/O thread's
        diskHas(RESERVE); // full; no clock moves from here on
        assertNoSpace(() -> store.write(DATA, 8192, ByteBuffer.wrap(data)));
        assertFalse(store.tryWrite(DATA, 8192, ByteBuffer.wrap(data)), "refused: the I/O thread measures again");
        free.set(RESERVE + MiB); // a delete elsewhere...
        assertTrue(store.remove(DATA + 1)); // ...and here: the next write measures
        store.write(DATA, 8192, ByteBuffer.wrap(data));
        assertArrayEquals(data, Arrays.copyOfRange(read(store, DATA, 12288), 8192, 12288));
    }

    @Test
    void zeroingAHoleOrZerosWritesNothingSoItWorksOnADiskWithNoBlockLeft() throws IOException {
        AtomicLong room = new AtomicLong(Long.MAX_VALUE / 2);
        FullDiskChannel.install(store, room);
        byte[] data = random(16384, 8);
        Arrays.fill(data, 4096, 8192, (byte) 0); // block 1 written as zeros
        store.write(DATA, 0, ByteBuffer.wrap(data));
        store.write(DATA, 64 << 10, ByteBuffer.wrap(data, 0, 4096)); // blocks 4-15 a hole
        room.set(0); // not one byte more may be written
        store.zero(DATA, 4096, 4096); // zeros already
        store.zero(DATA, 16384, 48 << 10); // the hole
        store.zero(DATA, 100 << 10, 100 << 20); // past the end: nothing to do
        byte[] expected = Arrays.copyOf(data, 68 << 10);
        System.arraycopy(data, 0, expected, 64 << 10, 4096);
        assertArrayEquals(expected, read(store, DATA, 68 << 10));
        assertEquals(java.util.List.of(), store.stat(DATA, true).badBlocks());
        assertNoSpace(() -> store.zero(DATA, 0, 4096)); // block 0 holds data: its zeros must be written
    }

    @Test
    void aFullDiskEndsOnlyWhenDataWritesCouldGoOnPastTheReserve() throws IOException {
        AtomicReference<String> failure = new AtomicReference<>();
        HealthCheckedStore s = new HealthCheckedStore(store, store.dir(), failure::set, 0);
        diskHas(RESERVE);
        assertNoSpace(() -> s.write(DATA, 0, ByteBuffer.wrap(random(4096, 9))));
        assertTrue(s.full());
        s.probe(); // the probe's block fits in the reserve, data does not: still full
        assertTrue(s.full());
        diskHas(RESERVE + MiB);
        s.probe();
        assertFalse(s.full());
        s.write(DATA, 0, ByteBuffer.wrap(random(4096, 9)));
        assertNull(failure.get());
        assertFalse(s.disabled(DATA));
    }
}
