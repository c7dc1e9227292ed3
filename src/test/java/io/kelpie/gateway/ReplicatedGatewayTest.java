package io.kelpie.gateway;

import io.kelpie.cluster.ClusterManager.Placement;
import io.kelpie.cluster.Ring;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static io.kelpie.gateway.GatewayHarness.await;
import static io.kelpie.gateway.GatewayHarness.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The replicated gateway against fake nodes that fail, pause and rot on purpose. */
@Timeout(30)
class ReplicatedGatewayTest {
    private static final long OID = 0x1234L << 32 | 7;
    private GatewayHarness h;

    @AfterEach
    void close() {
        if (h != null) {
            h.close();
        }
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void everyReplicaStoresTheWriteAndNoneLags() {
        h = new GatewayHarness(3, 3, 2, 1);
        byte[] data = random(8192, 1);
        long start = System.nanoTime();
        h.write(OID, 3, 4096, data);
        assertTrue(millisSince(start) < GatewayHarness.TIMEOUTS.straggler().toMillis(), "an all-good write waited");
        for (ReplicaStore s : h.stores) {
            assertArrayEquals(data, s.bytes(OID, 4096, data.length));
            assertEquals(1, s.version(OID));
        }
        assertEquals(Set.of(), h.gateway.laggards(OID));
        assertArrayEquals(data, h.read(OID, 3, 4096, data.length));
    }

    @Test
    void aFailingReplicaIsRecordedAndRepairedWhileMinCopiesAcknowledge() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        h.net.fail(h.address(2), Status.IO_ERROR, PeerConstants.WRITE_OBJ);
        byte[] data = random(4096, 2);
        h.write(OID, 3, 0, data);
        assertArrayEquals(data, h.stores.get(0).bytes(OID, 0, 4096));
        assertArrayEquals(data, h.stores.get(1).bytes(OID, 0, 4096));
        assertFalse(h.stores.get(2).exists(OID));
        assertEquals(Set.of("n2"), h.gateway.laggards(OID));
        await("REPAIR_OBJ reaches n2", 5000, () -> h.remote.servedTo(h.address(2), PeerConstants.REPAIR_OBJ, OID));

        // Until it is repaired (UNSUPPORTED here) the laggard gets no writes: they would make it look current.
        h.remote.served.clear();
        h.net.heal(h.address(2));
        h.write(OID, 3, 0, data);
        assertFalse(h.remote.servedTo(h.address(2), PeerConstants.WRITE_OBJ, OID), "a laggard was written to");

        // A repair that succeeds clears the record; the repaired copy is used again.
        h.remote.repair = (address, oid) -> {
            h.stores.get(2).copyFrom(h.stores.get(1), oid);
            return Status.OK;
        };
        // Each write n2 misses asks for its repair again (at most once a second).
        await("n2 repaired", 5000, () -> {
            h.write(OID, 3, 0, data);
            return h.gateway.laggards(OID).isEmpty();
        });
        assertArrayEquals(data, h.stores.get(2).bytes(OID, 0, 4096));
        assertEquals(h.stores.get(1).version(OID), h.stores.get(2).version(OID));
        h.remote.served.clear();
        h.write(OID, 3, 0, random(4096, 3));
        assertTrue(h.remote.servedTo(h.address(2), PeerConstants.WRITE_OBJ, OID));
    }

    @Test
    void belowMinCopiesTheWriteFailsWithinTheBudgetNamingObjectAndCounts() {
        h = new GatewayHarness(3, 3, 2, 1);
        h.net.partition(h.address(1)).partition(h.address(2));
        long start = System.nanoTime();
        CompletionException e = assertThrows(CompletionException.class, () -> h.write(OID, 3, 0, random(4096, 4)));
        long took = millisSince(start);
        assertEquals(Status.TOO_FEW_COPIES, KelpieException.statusOf(e));
        String msg = KelpieException.messageOf(e);
        assertTrue(msg.contains(Long.toHexString(OID)), msg);
        assertTrue(msg.contains("stored by 1 of 3 replicas") && msg.contains("min-copies is 2"), msg);
        long budget = GatewayHarness.TIMEOUTS.budget().toMillis();
        // Retried until the budget is spent (the dead nodes may leave meanwhile), never much longer.
        assertTrue(took >= budget - 100 && took < budget + 1000, "took " + took + " ms");
    }

    @Test
    void theNextEpochWithoutTheDeadNodesIsTriedWithinTheBudget() throws Exception {
        h = new GatewayHarness(4, 3, 2, 1);
        // An object on n0, n1, n2: n1 and n2 die; epoch 2 (without them) puts it on n0 and n3.
        long oid = h.oidWhere(3, r -> Set.copyOf(r).equals(Set.of(h.node(0), h.node(1), h.node(2))));
        h.net.partition(h.address(1)).partition(h.address(2));
        byte[] data = random(4096, 5);
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        CompletableFuture<Void> w = h.gateway.write(oid, 3, 0, buf, false);
        Thread.sleep(200); // let it fail once on epoch 1
        assertFalse(w.isDone());
        h.cluster.publish(new Placement(2, new Ring(List.of(h.node(0), h.node(3)))));
        w.join();
        buf.release();
        assertArrayEquals(data, h.stores.get(0).bytes(oid, 0, 4096));
        assertArrayEquals(data, h.stores.get(3).bytes(oid, 0, 4096));
        assertEquals(1, h.stores.get(0).version(oid), "the local replica applied the write twice");
    }

    /** One replica died, another already moved to the epoch without it: the write follows it there. */
    @Test
    void aReplicaOnTheNextEpochIsWrittenThereNotRecordedAsLagging() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        h.net.partition(h.address(2)).fail(h.address(1), Status.OLD_EPOCH, PeerConstants.WRITE_OBJ);
        byte[] data = random(4096, 16);
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        CompletableFuture<Void> w = h.gateway.write(OID, 3, 0, buf, false);
        Thread.sleep(200);
        assertFalse(w.isDone());
        h.net.heal(h.address(1));
        h.cluster.publish(new Placement(2, new Ring(List.of(h.node(0), h.node(1)))));
        w.join();
        buf.release();
        assertArrayEquals(data, h.stores.get(1).bytes(OID, 0, 4096));
        assertEquals(Set.of(), h.gateway.laggards(OID));
        assertEquals(1, h.stores.get(0).version(OID));
    }

    /**
     * A rolling restart: n2 missed a write while the membership changed, then n1 leaves. The
     * object's replicas are now n0 and the lagging n2, so a write waits for n2's repair (within
     * the budget) instead of failing at once with too few copies.
     */
    @Test
    void aWriteThatNeedsALaggingReplicaWaitsForItsRepair() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        h.net.fail(h.address(2), Status.NEW_EPOCH, PeerConstants.WRITE_OBJ);
        byte[] first = random(4096, 30);
        h.write(OID, 3, 0, first);
        assertEquals(Set.of("n2"), h.gateway.laggards(OID));
        h.net.heal(h.address(2)).partition(h.address(1));
        h.cluster.publish(new Placement(2, new Ring(List.of(h.node(0), h.node(2)))));
        h.remote.repair = (address, oid) -> {
            h.stores.get(2).copyFrom(h.stores.get(0), oid);
            return Status.OK;
        };
        byte[] second = random(4096, 31);
        h.write(OID, 3, 4096, second);
        assertEquals(Set.of(), h.gateway.laggards(OID));
        assertArrayEquals(first, h.stores.get(2).bytes(OID, 0, 4096));
        assertArrayEquals(second, h.stores.get(2).bytes(OID, 4096, 4096));
        assertEquals(h.stores.get(0).version(OID), h.stores.get(2).version(OID));
    }

    @Test
    void aLaggingReplicaThatIsNeverRepairedFailsTheWriteAfterTheBudget() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        h.net.fail(h.address(2), Status.IO_ERROR, PeerConstants.WRITE_OBJ);
        h.write(OID, 3, 0, random(4096, 32));
        h.net.heal(h.address(2)).partition(h.address(1));
        h.cluster.publish(new Placement(2, new Ring(List.of(h.node(0), h.node(2)))));
        long start = System.nanoTime();
        CompletionException e = assertThrows(CompletionException.class, () -> h.write(OID, 3, 0, random(4096, 33)));
        long took = millisSince(start);
        assertEquals(Status.TOO_FEW_COPIES, KelpieException.statusOf(e));
        assertTrue(KelpieException.messageOf(e).contains("awaits repair"), KelpieException.messageOf(e));
        long budget = GatewayHarness.TIMEOUTS.budget().toMillis();
        assertTrue(took >= budget - 100 && took < budget + 1000, "took " + took + " ms");
    }

    @Test
    void aPausedReplicaDelaysTheWriteByTheStragglerWindowOnly() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        h.net.delay(h.address(2), 800);
        byte[] data = random(4096, 6);
        long start = System.nanoTime();
        h.write(OID, 3, 0, data);
        long took = millisSince(start);
        long window = GatewayHarness.TIMEOUTS.straggler().toMillis();
        assertTrue(took >= window - 20 && took < window + 400, "took " + took + " ms");
        assertEquals(Set.of("n2"), h.gateway.laggards(OID));
        // The repair is asked for once the straggling write is over, never on top of it.
        await("REPAIR_OBJ reaches n2", 5000, () -> h.remote.servedTo(h.address(2), PeerConstants.REPAIR_OBJ, OID));
        int write = h.remote.served.indexOf(h.address(2) + " WRITE_OBJ " + Long.toHexString(OID));
        int repair = h.remote.served.indexOf(h.address(2) + " REPAIR_OBJ " + Long.toHexString(OID));
        assertTrue(write >= 0 && write < repair, h.remote.served.toString());
    }

    @Test
    void aCorruptLocalCopyIsReadFromAnotherReplicaAndRepaired() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        byte[] data = random(8192, 7);
        h.write(OID, 3, 0, data);
        h.stores.get(0).corrupt.add(OID);
        assertArrayEquals(data, h.read(OID, 3, 0, data.length));
        await("local repair requested", 5000, () -> h.localRepairs.contains(OID));
        assertEquals(Set.of("n0"), h.gateway.laggards(OID));
        // Recorded: the next read does not touch the bad copy.
        int before = h.stores.get(0).reads.get();
        assertArrayEquals(data, h.read(OID, 3, 0, data.length));
        assertEquals(before, h.stores.get(0).reads.get());
    }

    @Test
    void aCorruptRemoteCopyIsSkippedAndRepaired() throws Exception {
        h = new GatewayHarness(4, 2, 1, 1);
        long oid = h.oidWhere(2, r -> !r.contains(h.node(0)));
        List<io.kelpie.cluster.NodeInfo> replicas = h.gateway.replicas(oid, 2);
        byte[] data = random(4096, 8);
        h.write(oid, 2, 0, data);
        int first = h.indexOf(replicas.get(0));
        h.stores.get(first).corrupt.add(oid);
        assertArrayEquals(data, h.read(oid, 2, 0, data.length));
        await("REPAIR_OBJ reaches the corrupt replica", 5000,
                () -> h.remote.servedTo(h.address(first), PeerConstants.REPAIR_OBJ, oid));
    }

    @Test
    void aLocalStoreErrorIsServedByOthersAndTheCopyStopsServing() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        byte[] data = random(4096, 9);
        h.write(OID, 3, 0, data);
        h.stores.get(0).failReads.add(OID);
        assertArrayEquals(data, h.read(OID, 3, 0, data.length));
        assertEquals(Set.of("n0"), h.gateway.laggards(OID));
        await("local repair requested", 5000, () -> h.localRepairs.contains(OID));
        // A write needs the two healthy remotes now; the failing local store is left alone.
        h.stores.get(0).failWrites.add(OID);
        byte[] next = random(4096, 10);
        h.write(OID, 3, 0, next);
        assertArrayEquals(next, h.read(OID, 3, 0, 4096));
    }

    @Test
    void aPausedRemoteReplicaHandsTheReadOnQuickly() {
        h = new GatewayHarness(4, 2, 1, 1);
        long oid = h.oidWhere(2, r -> !r.contains(h.node(0)));
        byte[] data = random(4096, 11);
        h.write(oid, 2, 0, data);
        h.net.drop(h.gateway.replicas(oid, 2).get(0).address());
        long start = System.nanoTime();
        assertArrayEquals(data, h.read(oid, 2, 0, data.length));
        long took = millisSince(start);
        assertTrue(took < GatewayHarness.TIMEOUTS.readTry().toMillis() + 400, "took " + took + " ms");
    }

    /** A replica still catching up with the epoch (a restarted node) answers NEW_EPOCH: the next one serves. */
    @Test
    void aReplicaBehindOnEpochsDoesNotHoldUpReads() {
        h = new GatewayHarness(4, 2, 1, 1);
        long oid = h.oidWhere(2, r -> !r.contains(h.node(0)));
        byte[] data = random(4096, 15);
        h.write(oid, 2, 0, data);
        h.net.fail(h.gateway.replicas(oid, 2).get(0).address(), Status.NEW_EPOCH, PeerConstants.READ_OBJ);
        long start = System.nanoTime();
        assertArrayEquals(data, h.read(oid, 2, 0, data.length));
        assertTrue(millisSince(start) < 300, "took " + millisSince(start) + " ms");
    }

    @Test
    void refusedIoWaitsForThePlacementThenFailsWithNoQuorum() throws Exception {
        h = new GatewayHarness(3, 3, 2, 1);
        Ring ring = h.cluster.placement().ring();
        h.cluster.publish(new Placement(1, ring, "no quorum: this node sees 1 of 3 nodes"));
        long start = System.nanoTime();
        CompletionException e = assertThrows(CompletionException.class, () -> h.read(OID, 3, 0, 512));
        long took = millisSince(start);
        assertEquals(Status.NO_QUORUM, KelpieException.statusOf(e));
        assertTrue(KelpieException.messageOf(e).contains("sees 1 of 3 nodes"), KelpieException.messageOf(e));
        long budget = GatewayHarness.TIMEOUTS.budget().toMillis();
        assertTrue(took >= budget - 100 && took < budget + 1000, "took " + took + " ms");
        assertFalse(h.stores.get(0).exists(OID));

        // A write that arrives while refused goes through once the cluster allows I/O again.
        byte[] data = random(4096, 12);
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        CompletableFuture<Void> w = h.gateway.write(OID, 3, 0, buf, false);
        Thread.sleep(200);
        assertFalse(w.isDone());
        assertFalse(h.stores.get(1).exists(OID), "written while refused");
        h.cluster.publish(new Placement(2, ring));
        w.join();
        buf.release();
        for (ReplicaStore s : h.stores) {
            assertArrayEquals(data, s.bytes(OID, 0, 4096));
        }
    }

    @Test
    void createStartsEveryReplicaAtTheEpochBaseVersion() throws Exception {
        h = new GatewayHarness(3, 3, 2, 7);
        for (ReplicaStore s : h.stores) {
            s.create(OID, 99); // an orphan of an earlier life
            s.write(OID, 0, java.nio.ByteBuffer.wrap(random(8192, 13)));
        }
        byte[] data = random(4096, 14);
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        h.gateway.create(OID, 3, 4096, buf, false).join();
        buf.release();
        for (ReplicaStore s : h.stores) {
            assertEquals((7L << 32) + 1, s.version(OID));
            assertArrayEquals(new byte[4096], s.bytes(OID, 0, 4096), "the orphan's bytes survived");
            assertArrayEquals(data, s.bytes(OID, 4096, 4096));
        }
        // Writes keep counting by one.
        h.write(OID, 3, 0, data);
        for (ReplicaStore s : h.stores) {
            assertEquals((7L << 32) + 2, s.version(OID));
        }
    }
}
