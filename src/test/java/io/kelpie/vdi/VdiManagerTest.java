package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.MemoryObjectStore;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VdiManagerTest {
    ExecutorService io;
    MemoryObjectStore store;
    VdiManager vdis;

    @BeforeEach
    void setUp() {
        io = Executors.newFixedThreadPool(2);
        store = new MemoryObjectStore();
        vdis = new VdiManager(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT), PooledByteBufAllocator.DEFAULT, 1, 22);
    }

    @AfterEach
    void tearDown() {
        vdis.close();
        io.shutdownNow();
    }

    static Status status(Runnable r) {
        return assertThrows(KelpieException.class, r::run).status();
    }

    @Test
    void createAssignsSheepdogVdiIdsAndRefusesDuplicates() {
        Inode a = vdis.create("test", 1 << 20, 0);
        assertEquals(0x7c2b25, a.vdiId());
        assertEquals(1, a.copies());
        assertTrue(store.exists(ObjectIds.inodeOid(0x7c2b25)));
        assertEquals(Status.VDI_EXISTS, status(() -> vdis.create("test", 1 << 20, 0)));
    }

    @Test
    void badInputChangesNothing() {
        assertEquals(Status.INVALID, status(() -> vdis.create("", 1, 0)));
        assertEquals(Status.INVALID, status(() -> vdis.create("x".repeat(257), 1, 0)));
        assertEquals(Status.INVALID, status(() -> vdis.create("a@b", 1, 0)));
        assertEquals(Status.INVALID, status(() -> vdis.create("zero", 0, 0)));
        assertEquals(Status.INVALID, status(() -> vdis.create("huge", (4L << 40) + 1, 0)));
        assertEquals(Status.INVALID, status(() -> vdis.create("copies", 1, 32)));
        assertEquals(0, store.list().size());
        vdis.create("x".repeat(256), 4L << 40, 0);
        assertEquals(Status.NO_VDI, status(() -> vdis.lookup("nope")));
    }

    @Test
    void resizeGrowsOnlyAndOpenHandlesSeeIt() {
        vdis.create("d", 1 << 20, 0);
        Vdi v = vdis.open("d");
        try {
            assertEquals(Status.INVALID, status(() -> vdis.resize("d", 1000)));
            vdis.resize("d", 8 << 20);
            assertEquals(8 << 20, v.size());
            v.write((8 << 20) - 4096, Unpooled.wrappedBuffer(new byte[4096]), false).join();
        } finally {
            v.close();
        }
        VdiManager again = new VdiManager(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT), PooledByteBufAllocator.DEFAULT, 1, 22);
        again.recover(store.list().stream().filter(ObjectIds::isInode).toList());
        assertEquals(8 << 20, again.lookup("d").size());
    }

    @Test
    void deleteRemovesEveryObjectAndFreesTheName() {
        vdis.create("d", 64 << 20, 0);
        Vdi v = vdis.open("d");
        v.write(0, Unpooled.wrappedBuffer(new byte[9 << 20]), false).join();
        assertEquals(Status.INVALID, status(() -> vdis.delete("d")), "in use");
        v.close();
        assertEquals(4, store.list().size());
        vdis.delete("d");
        assertEquals(0, store.list().size());
        assertEquals(Status.NO_VDI, status(() -> vdis.delete("d")));
        assertEquals(0x7c2b25, vdis.create("test", 1, 0).vdiId());
    }

    @Test
    void interruptedDeleteIsFinishedOnRecovery() throws Exception {
        Inode in = vdis.create("d", 64 << 20, 0);
        Vdi v = vdis.open("d");
        v.write(0, Unpooled.wrappedBuffer(new byte[1 << 20]), false).join();
        v.close();
        // crash right after the deleted header was written
        java.nio.ByteBuffer slot = InodeCodec.encodeHeader(in.asDeleted());
        store.write(in.inodeOid(), InodeCodec.slotOffset(in.version() + 1), slot);
        VdiManager again = new VdiManager(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT), PooledByteBufAllocator.DEFAULT, 1, 22);
        again.recover(store.list().stream().filter(ObjectIds::isInode).toList());
        assertEquals(0, again.list().size());
        assertEquals(0, store.list().size());
    }
}
