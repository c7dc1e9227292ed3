package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.FaultyStore;
import io.kelpie.store.MemoryObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VdiTest {
    static final int MiB = 1 << 20;
    static final long OBJ = 4L * MiB;

    ExecutorService io;
    MemoryObjectStore mem;
    FaultyStore store;
    VdiManager vdis;
    Vdi vdi;

    @BeforeEach
    void setUp() {
        io = Executors.newFixedThreadPool(4);
        mem = new MemoryObjectStore();
        store = new FaultyStore(mem);
        vdis = new VdiManager(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT), PooledByteBufAllocator.DEFAULT, 1, 22);
        vdis.create("disk", 64L * MiB, 0);
        vdi = vdis.open("disk");
    }

    @AfterEach
    void tearDown() {
        vdi.close();
        vdis.close();
        io.shutdownNow();
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    byte[] read(long offset, int n) {
        ByteBuf b = vdi.read(offset, n).join();
        try {
            assertEquals(n, b.readableBytes());
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    void write(long offset, byte[] data) {
        vdi.write(offset, Unpooled.wrappedBuffer(data), false).join();
    }

    long dataObjects() {
        return mem.list().stream().filter(ObjectIds::isData).count();
    }

    static Status failure(CompletableFuture<?> f) {
        CompletionException e = assertThrows(CompletionException.class, f::join);
        return KelpieException.statusOf(e);
    }

    @Test
    void newVdiReadsZerosAndHasNoDataObjects() {
        assertArrayEquals(new byte[MiB], read(10 * MiB, MiB));
        assertEquals(0, dataObjects());
        assertEquals(List.of(new Vdi.Extent(0, 64L * MiB, false)), vdi.extents(0, 64L * MiB));
    }

    @Test
    void writeAcrossObjectBoundaryReadsBack() {
        byte[] data = random(3 * MiB, 1);
        long at = OBJ - MiB - 17;
        write(at, data);
        assertArrayEquals(data, read(at, data.length));
        assertEquals(2, dataObjects(), "exactly the two touched objects are allocated");
        assertArrayEquals(new byte[4096], read(at - 4096, 4096), "rest of a new object reads as zeros");
        List<Vdi.Extent> ex = vdi.extents(0, 3 * OBJ);
        assertEquals(List.of(new Vdi.Extent(0, 2 * OBJ, true), new Vdi.Extent(2 * OBJ, OBJ, false)), ex);
    }

    @Test
    void allocationSurvivesReopenFromTheInode() {
        byte[] data = random(8192, 2);
        write(5 * OBJ + 100, data);
        vdi.close();
        vdi = vdis.open("disk");
        assertArrayEquals(data, read(5 * OBJ + 100, 8192));
        VdiManager again = new VdiManager(new LocalGateway(mem, io, PooledByteBufAllocator.DEFAULT), PooledByteBufAllocator.DEFAULT, 1, 22);
        again.recover(mem.list().stream().filter(ObjectIds::isInode).toList());
        Vdi other = again.open("disk");
        try {
            ByteBuf b = other.read(5 * OBJ + 100, 8192).join();
            assertArrayEquals(data, ByteBufUtil.getBytes(b));
            b.release();
        } finally {
            other.close();
        }
    }

    @Test
    void concurrentFirstWritesToOneObjectKeepEveryByte() {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        byte[] expect = new byte[(int) OBJ];
        for (int i = 0; i < 64; i++) {
            byte[] chunk = random(64 * 1024, 100 + i);
            System.arraycopy(chunk, 0, expect, i * 64 * 1024, chunk.length);
            all.add(vdi.write(OBJ * 3 + i * 64L * 1024, Unpooled.wrappedBuffer(chunk), false));
        }
        all.forEach(CompletableFuture::join);
        assertArrayEquals(expect, read(OBJ * 3, (int) OBJ));
        assertEquals(1, dataObjects());
    }

    @Test
    void trimFreesWholeObjectsAndZeroesPartialRanges() {
        write(0, random((int) (3 * OBJ), 3));
        vdi.trim(OBJ / 2, 2 * OBJ, false).join();
        assertEquals(2, dataObjects(), "the fully covered middle object is freed");
        assertArrayEquals(new byte[(int) (2 * OBJ)], read(OBJ / 2, (int) (2 * OBJ)));
        byte[] all = random((int) (3 * OBJ), 3);
        byte[] head = new byte[(int) (OBJ / 2)];
        System.arraycopy(all, 0, head, 0, head.length);
        assertArrayEquals(head, read(0, head.length), "bytes before the trimmed range are kept");
        assertFalse(vdi.extents(OBJ, OBJ).get(0).allocated());
    }

    @Test
    void trimToTheEndFreesAPartialLastObject() {
        vdis.create("odd", 2 * OBJ + 4096, 0);
        Vdi odd = vdis.open("odd");
        try {
            ByteBuf data = Unpooled.wrappedBuffer(random((int) (2 * OBJ + 4096), 5));
            odd.write(0, data, false).join();
            data.release();
            assertEquals(3, vdis.allocatedObjects("odd").size());
            odd.trim(0, 2 * OBJ + 4096, false).join();
            assertTrue(vdis.allocatedObjects("odd").isEmpty(), "left: " + vdis.allocatedObjects("odd"));
            ByteBuf back = odd.read(2 * OBJ, 4096).join();
            assertArrayEquals(new byte[4096], ByteBufUtil.getBytes(back));
            back.release();
        } finally {
            odd.close();
        }
    }

    @Test
    void zeroWithoutHolesAllocates() {
        assertFalse(vdi.zeroIsFast(0, OBJ, false));
        vdi.zero(0, OBJ, false, false).join();
        assertTrue(vdi.extents(0, OBJ).get(0).allocated());
        assertArrayEquals(new byte[MiB], read(0, MiB));
        assertTrue(vdi.zeroIsFast(0, OBJ, false));
        write(8 * OBJ, random(100, 4));
        vdi.zero(8 * OBJ, OBJ, false, true).join();
        assertFalse(vdi.extents(8 * OBJ, OBJ).get(0).allocated(), "zero with trim allowed frees the object");
    }

    @Test
    void rangesPastTheEndFailWithoutSideEffects() {
        assertEquals(Status.NO_SPACE, failure(vdi.write(64L * MiB - 10, Unpooled.wrappedBuffer(new byte[20]), false)));
        assertEquals(Status.INVALID, failure(vdi.read(64L * MiB, 1)));
        assertEquals(Status.INVALID, failure(vdi.trim(-1, 10, false)));
        assertEquals(0, dataObjects());
    }

    @Test
    void storeErrorsReachTheCallerAndTableStaysConsistent() {
        store.failWrites(ObjectIds::isInode);
        assertEquals(Status.IO_ERROR, failure(vdi.write(0, Unpooled.wrappedBuffer(random(512, 5)), false)));
        assertFalse(vdi.extents(0, OBJ).get(0).allocated(), "a failed table update leaves the object unallocated");
        store.heal();
        byte[] data = random(512, 6);
        write(4096, data);
        assertArrayEquals(new byte[4096], read(0, 4096), "the orphan of the failed write is recreated, not exposed");
        assertArrayEquals(data, read(4096, 512));
    }

    @Test
    void copyOnWriteFromAParentSnapshot() {
        byte[] base = random((int) OBJ, 7);
        write(0, base);
        Inode parent = vdi.inode();
        // A child VDI whose table points at the parent's object, as a snapshot/clone would leave it.
        Inode child = vdis.create("child", 64L * MiB, 0);
        Vdi c = vdis.open("child");
        try {
            c.table().set(0, parent.vdiId());
            byte[] patch = random(100, 8);
            c.write(1000, Unpooled.wrappedBuffer(patch), false).join();
            byte[] expect = base.clone();
            System.arraycopy(patch, 0, expect, 1000, 100);
            ByteBuf got = c.read(0, (int) OBJ).join();
            assertArrayEquals(expect, ByteBufUtil.getBytes(got));
            got.release();
            assertEquals(child.vdiId(), c.table().get(0));
            assertArrayEquals(base, read(0, (int) OBJ), "the parent's object is untouched");
        } finally {
            c.close();
        }
    }
}
