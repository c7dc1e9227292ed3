package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reserve's rules and its measuring, against a fake file system and a fake clock. */
class SpaceReserveTest {
    static final long MiB = 1 << 20;
    static final long DATA = ObjectIds.dataOid(0x2a, 3);
    static final long INODE = ObjectIds.inodeOid(0x2a);
    static final long ATTR = ObjectIds.VDI_ATTR_BIT | ((long) 0x2a << 32);

    final AtomicLong free = new AtomicLong();
    final AtomicLong now = new AtomicLong(1_000_000_000L);
    final AtomicInteger measures = new AtomicInteger();
    final SpaceReserve reserve = new SpaceReserve(() -> {
        measures.incrementAndGet();
        return free.get();
    }, 4 * MiB, now::get);

    static void assertRefused(SpaceReserve r, long oid, long bytes, boolean created) {
        KelpieException e = assertThrows(KelpieException.class, () -> r.take(oid, bytes, created));
        assertEquals(Status.NO_SPACE, e.status());
        assertTrue(e.getMessage().contains("--reserve"), e.getMessage());
    }

    @Test
    void dataMustLeaveTheWholeReserveInodesCreatedHalfOfItAndInodeWritesNone() throws IOException {
        free.set(5 * MiB);
        reserve.take(DATA, MiB, false); // leaves exactly the reserve
        assertRefused(reserve, DATA, 4096, false);
        assertRefused(reserve, DATA + 1, 4096, true);
        reserve.take(INODE, MiB, true); // a new inode may go down to half the reserve...
        reserve.take(INODE + (1L << 32), MiB, true);
        assertRefused(reserve, INODE + (2L << 32), 4096, true); // ...not below it
        reserve.take(INODE, 2 * MiB, false); // an existing inode's write: never refused here
        reserve.take(ATTR, MiB, false);
        assertEquals(1, measures.get(), "all on one measure");
    }

    @Test
    void writesBetweenMeasuresAreCountedSoConcurrentWritersCannotAllPassOnOneNumber() throws IOException {
        free.set(10 * MiB);
        for (int i = 0; i < 6; i++) {
            reserve.take(DATA, MiB, false);
            reserve.done(MiB);
        }
        assertRefused(reserve, DATA, 4096, false);
        assertEquals(1, measures.get(), "measured again within " + SpaceReserve.REMEASURE_NANOS + " ns");
        now.addAndGet(SpaceReserve.MEASURE_NANOS); // the writes are on the disk now: the measure has them
        free.set(4 * MiB + 4096);
        reserve.take(DATA, 4096, false);
        assertEquals(2, measures.get());
        assertRefused(reserve, DATA, 4096, false);
    }

    @Test
    void aWriteStillRunningWhenTheDiskIsMeasuredStaysCounted() throws IOException {
        free.set(10 * MiB);
        reserve.take(DATA, 3 * MiB, false); // not done: its bytes may not be in the next measure
        now.addAndGet(SpaceReserve.MEASURE_NANOS);
        reserve.take(DATA, 3 * MiB, false);
        assertRefused(reserve, DATA, 4096, false);
        assertEquals(2, measures.get());
        reserve.done(3 * MiB);
        reserve.done(3 * MiB);
        now.addAndGet(SpaceReserve.MEASURE_NANOS); // both landed: 4 MiB free is what the disk says
        free.set(4 * MiB);
        assertRefused(reserve, DATA, 4096, false);
        free.set(5 * MiB);
        now.addAndGet(SpaceReserve.REMEASURE_NANOS);
        reserve.take(DATA, MiB, false);
    }

    @Test
    void aRefusalMeasuresAgainSoFreedSpaceCountsAtOnceButAFloodOfRefusalsDoesNot() throws IOException {
        free.set(4 * MiB);
        assertRefused(reserve, DATA, 4096, false);
        for (int i = 0; i < 100; i++) {
            assertRefused(reserve, DATA, 4096, false);
        }
        assertEquals(1, measures.get(), "refusals within the gap measure once");
        free.set(100 * MiB); // a delete
        now.addAndGet(SpaceReserve.REMEASURE_NANOS);
        reserve.take(DATA, MiB, false);
        assertEquals(2, measures.get());
    }

    @Test
    void aRemovalMakesTheNextWriteMeasure() throws IOException {
        free.set(4 * MiB);
        assertRefused(reserve, DATA, 4096, false);
        free.set(8 * MiB);
        reserve.freed();
        reserve.take(DATA, MiB, false); // no clock moved: the removal made the count stale
        assertEquals(2, measures.get());
    }

    @Test
    void anEventLoopNeverMeasuresAndHandsOverInsteadOfRefusing() throws IOException {
        BlockTable t = tableWithDataIn(0);
        java.nio.ByteBuffer[] block0 = {java.nio.ByteBuffer.allocate(4096)};
        java.nio.ByteBuffer[] block1 = {java.nio.ByteBuffer.allocate(4096)};
        free.set(10 * MiB);
        assertEquals(-1, reserve.takeForWrite(t, DATA, 4096, block1, false), "stale: must measure");
        assertEquals(0, measures.get());
        assertEquals(0, reserve.takeForWrite(t, DATA, 0, block0, false), "an overwrite takes nothing");
        assertEquals(4096, reserve.takeForWrite(t, DATA, 4096, block1, true));
        assertEquals(4096, reserve.takeForWrite(t, DATA, 4096, block1, false), "fresh: counted without a measure");
        free.set(4 * MiB);
        now.addAndGet(SpaceReserve.MEASURE_NANOS);
        assertThrows(KelpieException.class, () -> reserve.takeForWrite(t, DATA, 4096, block1, true));
        assertEquals(-1, reserve.takeForWrite(t, DATA, 4096, block1, false), "below: the I/O thread looks again");
        assertEquals(0, reserve.takeForWrite(t, DATA, 0, block0, true), "an overwrite still goes on");
        t.close();
    }

    @Test
    void probesSeeRoomOnlyPastTheReserve() {
        free.set(4 * MiB);
        assertFalse(reserve.roomForData());
        free.set(4 * MiB + 4096);
        now.addAndGet(SpaceReserve.REMEASURE_NANOS);
        assertTrue(reserve.roomForData());
    }

    @Test
    void theDefaultIsTwoPercentBetweenFourAndSixtyFourMiB() {
        assertEquals(4 * MiB, SpaceReserve.defaultFor(64 * MiB));
        assertEquals(20 * MiB, SpaceReserve.defaultFor(1000 * MiB));
        assertEquals(64 * MiB, SpaceReserve.defaultFor(1L << 40));
        assertEquals(0, SpaceReserve.NONE.bytes());
    }

    @Test
    void noReserveNeverMeasuresNorRefuses() throws IOException {
        SpaceReserve none = new SpaceReserve(() -> {
            throw new IOException("measured");
        }, 0, now::get);
        none.take(DATA, Long.MAX_VALUE / 2, true);
        assertTrue(none.roomForData());
        assertThrows(IllegalArgumentException.class, () -> new SpaceReserve(() -> 0, -1, now::get));
    }

    /** A table whose block 0 holds data (entry not 0) and whose other blocks are holes. */
    static BlockTable tableWithDataIn(int block) throws IOException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("reserve-table", ".meta");
        f.toFile().deleteOnExit();
        BlockTable t = BlockTable.create(f, 1, new int[block + 1]);
        t.setEntry(block, 0x1234);
        java.nio.file.Files.delete(f); // the mapping stays
        return t;
    }
}
