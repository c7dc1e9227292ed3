package io.kelpie.vdi;

import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.MemoryObjectStore;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** qemu:allocation-depth of a VDI, its snapshot, a clone and a snapshot of the clone (4 MiB objects). */
@Timeout(60)
class AllocationDepthTest {
    private static final long M = 1 << 20;

    private ExecutorService io;
    private VdiManager vdis;

    @BeforeEach
    void setUp() {
        io = Executors.newFixedThreadPool(2);
        vdis = new VdiManager(new LocalGateway(new MemoryObjectStore(), io, PooledByteBufAllocator.DEFAULT),
                PooledByteBufAllocator.DEFAULT, 1, 22);
    }

    @AfterEach
    void tearDown() {
        vdis.close();
        io.shutdownNow();
    }

    private List<AllocationDepth.Extent> depths(String export, long offset, long length) {
        Vdi v = vdis.open(export);
        try {
            return AllocationDepth.of(v, offset, length);
        } finally {
            v.close();
        }
    }

    private static AllocationDepth.Extent e(long offset, long length, int depth) {
        return new AllocationDepth.Extent(offset * M, length * M, depth);
    }

    @Test
    void ownDataIsOneAncestorsCountUpTheChainHolesAreZero() {
        vdis.create("vm", 16 * M, 0);
        write(vdis, "vm", 0, random((int) (8 * M), 1));        // objects 0, 1
        write(vdis, "vm", 12 * M, random((int) (4 * M), 2));   // object 3
        assertEquals(List.of(e(0, 8, 1), e(8, 4, 0), e(12, 4, 1)), depths("vm", 0, 16 * M));
        vdis.snapshot("vm", "base");
        assertEquals(List.of(e(0, 8, 2), e(8, 4, 0), e(12, 4, 2)), depths("vm", 0, 16 * M), "the VDI after its snapshot");
        assertEquals(List.of(e(0, 8, 1), e(8, 4, 0), e(12, 4, 1)), depths("vm@base", 0, 16 * M));

        vdis.cloneOf("vm@base", "c", 0);
        write(vdis, "c", 5 * M, random((int) M, 3));           // object 1: copied into the clone
        write(vdis, "c", 9 * M, random((int) M, 4));           // object 2: new
        assertEquals(List.of(e(0, 4, 2), e(4, 8, 1), e(12, 4, 2)), depths("c", 0, 16 * M));
        vdis.snapshot("c", "cs");
        write(vdis, "c", 15 * M, random((int) M, 5));          // object 3: the clone's own now
        assertEquals(List.of(e(0, 4, 3), e(4, 8, 2), e(12, 4, 1)), depths("c", 0, 16 * M));
        // A range inside objects: exactly the range, clipped to the VDI's end.
        assertEquals(List.of(e(3, 1, 3), e(4, 2, 2)), depths("c", 3 * M, 3 * M));
        assertEquals(List.of(new AllocationDepth.Extent(16 * M - 512, 512, 1)), depths("c", 16 * M - 512, 4096));
    }
}
