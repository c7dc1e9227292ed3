package io.kelpie.store;

import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.vdi.Vdi;
import io.kelpie.vdi.VdiManager;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bug the reserve is for, in-process: a VDI fills the disk (a {@link FullDiskChannel} whose
 * room is also what the reserve measures) with 4 MiB writes and then 4 KiB writes into new objects
 * until each gets ENOSPC; its delete must still rewrite its inode, and the objects go. Without a
 * reserve the same fill leaves no byte and the delete fails.
 */
@Timeout(60)
class ReserveDeleteTest {
    static final int MiB = 1 << 20;
    final ExecutorService io = Executors.newFixedThreadPool(4);
    final AtomicLong room = new AtomicLong(24L * MiB + 12345);

    @TempDir
    Path dir;
    FileObjectStore store;

    @AfterEach
    void stop() {
        io.shutdownNow();
    }

    /** Writes {@code bytes} at {@code offset}; false when the disk was full. */
    static boolean write(Vdi v, long offset, int bytes, int seed) {
        byte[] b = FullDiskTest.random(bytes, seed);
        try {
            v.write(offset, Unpooled.wrappedBuffer(b), false).join();
            return true;
        } catch (CompletionException e) {
            assertEquals(Status.NO_SPACE, KelpieException.statusOf(e.getCause()), e.toString());
            return false;
        }
    }

    /** Fills the disk through a new VDI "fill" of {@code vdis}; returns the VDI's id. */
    static int fill(VdiManager vdis) {
        int vid = vdis.create("fill", 4L << 30, 0).vdiId();
        Vdi v = vdis.open("fill");
        try {
            int i = 0;
            while (write(v, (long) i * 4 * MiB, 4 * MiB, i)) {
                i++;
                assertTrue(i < 16, "24 MiB took 16 objects");
            }
            int small = 0;
            while (write(v, (long) (i + 1 + small) * 4 * MiB, 4096, small)) {
                small++;
                assertTrue(small < 1000, "1000 small writes after the disk was full");
            }
            assertTrue(i >= 4, i + " large, " + small + " small writes");
        } finally {
            v.close(); // a VDI in use is not deleted
        }
        return vid;
    }

    VdiManager vdisOn(SpaceReserve reserve) throws IOException {
        store = new FileObjectStore(dir.resolve("objects"), 64, reserve);
        FullDiskChannel.install(store, room);
        return new VdiManager(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT), PooledByteBufAllocator.DEFAULT, 1, 22);
    }

    @Test
    void aVdiThatFilledTheDiskToTheReserveIsDeletedAndWritesGoOnAfterwards() throws IOException {
        VdiManager vdis = vdisOn(new SpaceReserve(room::get, MiB, System::nanoTime));
        int vid = fill(vdis);
        // The reserve is left (tables, which this fake does not count, are counted against it until a measure).
        assertTrue(room.get() >= MiB / 2 && room.get() < 2 * MiB, "left " + room.get());
        vdis.delete("fill");
        assertTrue(store.list().stream().noneMatch(oid -> ObjectIds.vid(oid) == vid), "fill's objects went");
        room.set(64L * MiB); // the file system has its blocks back (this fake does not count removals)
        vdis.create("again", 8 * MiB, 0);
        Vdi v = vdis.open("again");
        byte[] b = FullDiskTest.random(8 * MiB, 99);
        v.write(0, Unpooled.wrappedBuffer(b), true).join();
        io.netty.buffer.ByteBuf got = v.read(0, 8 * MiB).join();
        try {
            assertArrayEquals(b, ByteBufUtil.getBytes(got));
        } finally {
            got.release();
            v.close();
        }
        vdis.close();
        store.close();
    }

    @Test
    void withoutAReserveTheSameFillLeavesNoRoomForTheDelete() throws IOException {
        VdiManager vdis = vdisOn(SpaceReserve.NONE);
        fill(vdis);
        assertEquals(0, room.get());
        KelpieException e = assertThrows(KelpieException.class, () -> vdis.delete("fill"));
        assertEquals(Status.NO_SPACE, e.status());
        vdis.close();
        store.close();
    }
}
