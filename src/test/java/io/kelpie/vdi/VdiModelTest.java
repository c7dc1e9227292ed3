package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;

import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.FileObjectStore;
import io.kelpie.store.ObjectStore;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Random batches of writes, trims and zeroes (concurrent within a batch, on disjoint ranges) on a
 * file-backed VDI, checked after every batch against a plain byte array, then again after the
 * store is closed and reopened.
 */
class VdiModelTest {
    static final int SIZE = 24 << 20;

    @TempDir
    Path dir;

    @Test
    void randomWorkloadMatchesModel() throws Exception {
        ExecutorService io = Executors.newFixedThreadPool(8);
        byte[] model = new byte[SIZE];
        Random rnd = new Random(42);
        try {
            ObjectStore store = new FileObjectStore(dir, 8);
            VdiManager vdis = new VdiManager(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT),
                    PooledByteBufAllocator.DEFAULT, 1, 22);
            vdis.create("m", SIZE, 0);
            Vdi vdi = vdis.open("m");
            for (int batch = 0; batch < 40; batch++) {
                List<CompletableFuture<Void>> ops = new ArrayList<>();
                int slots = 8;
                int slot = SIZE / slots;
                for (int s = 0; s < slots; s++) {
                    if (rnd.nextInt(3) == 0) {
                        continue;
                    }
                    int len = 1 + rnd.nextInt(rnd.nextBoolean() ? 8192 : slot - 1);
                    int off = s * slot + rnd.nextInt(slot - len + 1);
                    switch (rnd.nextInt(4)) {
                        case 0, 1 -> {
                            byte[] data = new byte[len];
                            rnd.nextBytes(data);
                            System.arraycopy(data, 0, model, off, len);
                            ops.add(vdi.write(off, Unpooled.wrappedBuffer(data), rnd.nextBoolean()));
                        }
                        case 2 -> {
                            Arrays.fill(model, off, off + len, (byte) 0);
                            ops.add(vdi.trim(off, len, false));
                        }
                        default -> {
                            Arrays.fill(model, off, off + len, (byte) 0);
                            ops.add(vdi.zero(off, len, false, rnd.nextBoolean()));
                        }
                    }
                }
                ops.forEach(CompletableFuture::join);
                if (batch % 10 == 9) {
                    vdi.flush().join();
                }
                assertArrayEquals(model, readAll(vdi), "after batch " + batch);
            }
            vdi.close();
            vdis.close();
            store.close();

            ObjectStore reopened = new FileObjectStore(dir, 8);
            VdiManager again = new VdiManager(new LocalGateway(reopened, io, PooledByteBufAllocator.DEFAULT),
                    PooledByteBufAllocator.DEFAULT, 1, 22);
            again.recover(reopened.list().stream().filter(ObjectIds::isInode).toList());
            Vdi back = again.open("m");
            assertArrayEquals(model, readAll(back), "after reopening the store");
            back.close();
            again.close();
            reopened.close();
        } finally {
            io.shutdownNow();
        }
    }

    static byte[] readAll(Vdi vdi) {
        ByteBuf b = vdi.read(0, SIZE).join();
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }
}
