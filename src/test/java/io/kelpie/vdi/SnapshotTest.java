package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;
import io.kelpie.gateway.LocalGateway;
import io.kelpie.store.MemoryObjectStore;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots, clones, rollback and deletes on one node's VDIs: the bytes of every VDI and snapshot
 * after each step, the objects that exist after deletes in every order, and a snapshot taken while
 * a client writes.
 */
@Timeout(120)
class SnapshotTest {
    private static final int MiB = 1 << 20;
    /** A quarter object: the sequence's writes are in these units, so they straddle objects alike at any object size. */
    private int unit = MiB;
    private long size = 16L * MiB;
    private int shift = 22;

    ExecutorService io;
    MemoryObjectStore store;
    VdiManager vdis;
    /** What every export should read: the model. */
    final Map<String, byte[]> model = new HashMap<>();

    @BeforeEach
    void setUp() {
        io = Executors.newFixedThreadPool(4);
        store = new MemoryObjectStore();
        vdis = new VdiManager(new LocalGateway(store, io, PooledByteBufAllocator.DEFAULT), PooledByteBufAllocator.DEFAULT, 1, shift);
    }

    @AfterEach
    void tearDown() {
        vdis.close();
        io.shutdownNow();
    }

    private void put(String name, long offset, byte[] data) {
        write(vdis, name, offset, data);
        System.arraycopy(data, 0, model.get(name), (int) offset, data.length);
    }

    private void checkAll() {
        for (Map.Entry<String, byte[]> e : model.entrySet()) {
            assertArrayEquals(e.getValue(), read(vdis, e.getKey(), 0, (int) size), e.getKey() + " differs from its model");
        }
    }

    /** The Sheepdog sequence; leaves vm (rolled back to s1), vm@s1, vm@s2, c and c@cs. */
    private void sequence() {
        vdis.create("vm", size, 0);
        model.put("vm", new byte[(int) size]);
        put("vm", unit, random(6 * unit, 1));                  // A: objects 0 and 1
        assertEquals(1, vdis.snapshot("vm", "s1").snapId());
        model.put("vm@s1", model.get("vm").clone());
        checkAll();
        put("vm", 5L * unit, random(5 * unit, 2));             // B: partly over shared objects 1 and 2
        checkAll();
        vdis.snapshot("vm", "s2");
        model.put("vm@s2", model.get("vm").clone());
        Inode c = vdis.cloneOf("vm@s1", "c", 0);
        assertEquals(vdis.lookup("vm@s1").vdiId(), c.parentVdiId());
        model.put("c", model.get("vm@s1").clone());
        checkAll();
        put("c", 3L * unit, random(2 * unit, 3));               // C: partial writes to both shared objects
        checkAll();
        vdis.snapshot("c", "cs");
        model.put("c@cs", model.get("c").clone());
        vdis.rollback("vm", "s1");
        System.arraycopy(model.get("vm@s1"), 0, model.get("vm"), 0, (int) size);
        checkAll();
        assertArrayEquals(model.get("vm@s1"), read(vdis, "vm@1", 0, (int) size), "a snapshot by id");
        put("vm", 12L * unit, random(unit, 4));
        checkAll();
    }

    @Test
    void sheepdogSequenceKeepsEverySnapshotAndCloneIntact() {
        sequence();
        assertEquals(Status.VDI_EXISTS, status(() -> vdis.snapshot("vm", "s1")));
        assertEquals(Status.VDI_EXISTS, status(() -> vdis.cloneOf("vm@s2", "c", 0)));
        assertEquals(Status.NO_VDI, status(() -> vdis.cloneOf("vm@nope", "d", 0)));
        assertEquals(Status.NO_VDI, status(() -> vdis.rollback("vm", "cs")));
        Vdi open = vdis.open("vm");
        try {
            assertEquals(Status.VDI_LOCKED, status(() -> vdis.rollback("vm", "s2")));
            assertEquals(Status.READ_ONLY, KelpieException.statusOf(assertThrows(Exception.class,
                    () -> vdis.open("vm@s2").write(0, Unpooled.wrappedBuffer(new byte[512]), false).join())));
        } finally {
            open.close();
        }
        checkAll();
    }

    private static Status status(Runnable r) {
        return assertThrows(KelpieException.class, r::run).status();
    }

    @Test
    void deletesInEveryOrderKeepWhatOthersReadAndFreeTheRest() {
        // 64 KiB objects: 120 orders of the whole sequence in seconds, the same object layout.
        shift = 16;
        unit = 16 << 10;
        size = 16L * unit;
        List<String> all = List.of("vm", "vm@s1", "vm@s2", "c", "c@cs");
        for (List<String> order : permutations(all)) {
            tearDown();
            setUp();
            model.clear();
            sequence();
            for (String victim : order) {
                vdis.delete(victim);
                model.remove(victim);
                checkAll();
                assertEquals(referenced(), dataObjects(), "objects after deleting " + victim + " in order " + order);
            }
            assertEquals(List.of(), store.list(), "objects left after deleting everything in order " + order);
            assertEquals(List.of(), vdis.all(), "placeholders left after " + order);
        }
    }

    /** The data objects the live VDIs and snapshots read. */
    private Set<Long> referenced() {
        Set<Long> out = new TreeSet<>();
        for (Inode in : vdis.list()) {
            vdis.allocatedObjects(in).forEach((idx, owner) -> out.add(ObjectIds.dataOid(owner, idx)));
        }
        return out;
    }

    private Set<Long> dataObjects() {
        Set<Long> out = new TreeSet<>();
        for (long oid : store.list()) {
            if (ObjectIds.isData(oid)) {
                out.add(oid);
            }
        }
        return out;
    }

    private static List<List<String>> permutations(List<String> items) {
        if (items.isEmpty()) {
            return List.of(List.of());
        }
        List<List<String>> out = new ArrayList<>();
        for (String first : items) {
            List<String> rest = new ArrayList<>(items);
            rest.remove(first);
            for (List<String> p : permutations(rest)) {
                List<String> one = new ArrayList<>();
                one.add(first);
                one.addAll(p);
                out.add(one);
            }
        }
        return out;
    }

    /**
     * A client writes block after block (each write waits for the one before) while a snapshot is
     * taken: the snapshot holds exactly a prefix of the writes, at least every one acknowledged
     * before the snapshot began and none begun after it returned; the VDI holds them all.
     */
    @Test
    void aSnapshotWhileAClientWritesIsCrashConsistent() throws Exception {
        int block = 4096;
        int blocks = (int) (size / block);
        vdis.create("busy", size, 0);
        Vdi v = vdis.open("busy");
        AtomicInteger acked = new AtomicInteger();
        AtomicInteger begun = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Future<?> w = writer.submit(() -> {
                for (int i = 0; i < blocks && !stop.get(); i++) {
                    begun.set(i + 1);
                    byte[] data = new byte[block];
                    java.util.Arrays.fill(data, (byte) (i % 251 + 1));
                    v.write((long) i * block, Unpooled.wrappedBuffer(data), false).join();
                    acked.set(i + 1);
                    try {
                        Thread.sleep(1); // pace the client, so that the snapshot meets it mid-stream
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            MiniWait.until("the writer is under way", () -> acked.get() >= 20);
            int ackedBefore = acked.get();
            vdis.snapshot("busy", "mid");
            int begunAfter = begun.get();
            MiniWait.until("the writer goes on after the snapshot", () -> acked.get() > begunAfter + 5);
            stop.set(true);
            w.get();
            byte[] snap = read(vdis, "busy@mid", 0, (int) size);
            int prefix = 0;
            while (prefix < blocks && snap[prefix * block] != 0) {
                prefix++;
            }
            assertTrue(prefix >= ackedBefore && prefix <= begunAfter,
                    "snapshot holds " + prefix + " writes; " + ackedBefore + " were acknowledged before, " + begunAfter + " begun after");
            for (int i = 0; i < blocks; i++) {
                byte[] want = new byte[block];
                if (i < prefix) {
                    java.util.Arrays.fill(want, (byte) (i % 251 + 1));
                }
                assertArrayEquals(want, java.util.Arrays.copyOfRange(snap, i * block, (i + 1) * block), "snapshot block " + i);
            }
            byte[] now = read(v, 0, (int) size);
            for (int i = 0; i < acked.get(); i++) {
                assertEquals((byte) (i % 251 + 1), now[i * block + block - 1], "the VDI lost write " + i);
            }
        } finally {
            writer.shutdownNow();
            v.close();
        }
    }

    /** Polls with a deadline. */
    static final class MiniWait {
        static void until(String what, java.util.function.BooleanSupplier c) throws InterruptedException {
            long deadline = System.currentTimeMillis() + 30_000;
            while (!c.getAsBoolean()) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("timed out waiting until " + what);
                }
                Thread.sleep(5);
            }
        }
    }
}
