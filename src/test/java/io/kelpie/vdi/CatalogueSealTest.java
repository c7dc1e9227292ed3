package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The catalogue's unsealed VDIs and pending reclaims, without I/O: which ops make a VDI unsealed,
 * who may seal it, who may claim a placeholder, and how both sets survive the catalogue file (and
 * a file from before they existed).
 */
class CatalogueSealTest {
    private static final String A = "a1@127.0.0.1:7000";
    private static final String B = "b2@127.0.0.1:7100";

    private final Catalogue cat = newCatalogue();

    private static Catalogue newCatalogue() {
        return new Catalogue(2, 22, new Catalogue.Listener() {
            @Override
            public void changed(Inode in) {
            }

            @Override
            public void moved(int fromVid, Inode to) {
            }
        });
    }

    private Inode create(String name, String holder) {
        return (Inode) cat.apply(CatalogueOp.create(name, 64L << 20, 0, 10, holder));
    }

    private Inode sealedVm() {
        Inode vm = create("vm", A);
        assertEquals(true, cat.apply(CatalogueOp.seal(vm.vdiId(), A, true)));
        return vm;
    }

    @Test
    void everyNewVdiIsUnsealedAndHeldByItsWriterUntilItSeals() {
        Inode vm = create("vm", A);
        assertTrue(cat.isUnsealed(vm.vdiId()));
        assertEquals(A, cat.lockHolder(vm.vdiId()));
        KelpieException e = assertThrows(KelpieException.class, () -> cat.apply(CatalogueOp.seal(vm.vdiId(), B, true)));
        assertEquals(Status.VDI_LOCKED, e.status(), "only the holder seals");
        assertTrue(cat.isUnsealed(vm.vdiId()));
        assertEquals(true, cat.apply(CatalogueOp.seal(vm.vdiId(), A, true)));
        assertFalse(cat.isUnsealed(vm.vdiId()));
        assertNull(cat.lockHolder(vm.vdiId()), "sealed and given up in one step");
        assertEquals(false, cat.apply(CatalogueOp.seal(vm.vdiId(), A, true)), "sealing twice changes nothing");

        cat.apply(CatalogueOp.lock("vm", vm.vdiId(), A));
        Lineage.Snapshot s = (Lineage.Snapshot) cat.apply(CatalogueOp.snapshot("vm", "s1", 20, A));
        assertTrue(cat.isUnsealed(s.current().vdiId()));
        assertFalse(cat.isUnsealed(s.snapshot().vdiId()));
        cat.apply(CatalogueOp.seal(s.current().vdiId(), A, false));
        assertEquals(A, cat.lockHolder(s.current().vdiId()), "a snapshot's writer keeps the VDI open");
        cat.apply(CatalogueOp.unlock(s.current().vdiId(), A));

        Inode clone = (Inode) cat.apply(CatalogueOp.clone("vm@s1", "cl", 0, 30, B));
        assertTrue(cat.isUnsealed(clone.vdiId()));
        Lineage.Rollback r = (Lineage.Rollback) cat.apply(CatalogueOp.rollback("vm", "vm@s1", 40, A));
        assertTrue(cat.isUnsealed(r.current().vdiId()));

        // A writer that left: its claim goes, and the next claimant (who repairs) may seal.
        cat.retainLocks(java.util.Set.of(A));
        cat.apply(CatalogueOp.lock("cl", clone.vdiId(), A));
        assertThrows(KelpieException.class, () -> cat.apply(CatalogueOp.seal(clone.vdiId(), B, true)));
        assertEquals(true, cat.apply(CatalogueOp.seal(clone.vdiId(), A, false)));
    }

    @Test
    void aDeletedUnsealedVdiIsNoLongerUnsealed() {
        Inode vm = create("vm", A);
        cat.apply(CatalogueOp.unlock(vm.vdiId(), A));
        cat.apply(CatalogueOp.delete("vm"));
        assertFalse(cat.isUnsealed(vm.vdiId()));
        assertEquals(List.of(vm.vdiId()), cat.reclaiming());
    }

    @Test
    void oneNodeAtATimeReclaimsAPlaceholderAndItIsPendingUntilDoneOrReleased() {
        Inode vm = sealedVm();
        assertEquals(Status.NO_VDI, assertThrows(KelpieException.class,
                () -> cat.apply(CatalogueOp.reclaim(vm.vdiId(), A))).status(), "a live VDI is not reclaimed");
        cat.apply(CatalogueOp.lock("vm", vm.vdiId(), A));
        cat.apply(CatalogueOp.snapshot("vm", "s1", 20, A));
        cat.apply(CatalogueOp.delete("vm@s1"));
        assertEquals(List.of(vm.vdiId()), cat.reclaiming());

        cat.apply(CatalogueOp.reclaim(vm.vdiId(), A));
        assertEquals(Status.VDI_LOCKED, assertThrows(KelpieException.class,
                () -> cat.apply(CatalogueOp.reclaim(vm.vdiId(), B))).status());
        cat.apply(CatalogueOp.reclaimed(vm.vdiId(), B));
        assertEquals(List.of(vm.vdiId()), cat.reclaiming(), "only the claimant says it is done");
        cat.apply(CatalogueOp.reclaimed(vm.vdiId(), A));
        assertEquals(List.of(), cat.reclaiming());
        cat.apply(CatalogueOp.reclaim(vm.vdiId(), B));

        // A claimant that crashed: its claim goes with it, the placeholder is still pending for a resume.
        cat.retainLocks(java.util.Set.of(A));
        cat.apply(CatalogueOp.reclaim(vm.vdiId(), A));
        cat.apply(CatalogueOp.release(vm.vdiId()));
        assertNull(cat.byId(vm.vdiId()));
        assertNull(cat.lockHolder(vm.vdiId()));
        assertEquals(Status.NO_VDI, assertThrows(KelpieException.class,
                () -> cat.apply(CatalogueOp.reclaim(vm.vdiId(), A))).status(), "a released id is claimed by nobody");
    }

    @Test
    void deletingMarksTheDeletedAncestorsUpToTheFirstLiveOnePending() {
        Inode vm = sealedVm();
        cat.apply(CatalogueOp.lock("vm", vm.vdiId(), A));
        Lineage.Snapshot s1 = (Lineage.Snapshot) cat.apply(CatalogueOp.snapshot("vm", "s1", 20, A));
        Lineage.Snapshot s2 = (Lineage.Snapshot) cat.apply(CatalogueOp.snapshot("vm", "s2", 30, A));
        cat.apply(CatalogueOp.delete("vm@s1"));
        cat.apply(CatalogueOp.reclaim(s1.snapshot().vdiId(), A));
        cat.apply(CatalogueOp.reclaimed(s1.snapshot().vdiId(), A)); // kept: s2 reads it
        cat.apply(CatalogueOp.delete("vm@s2"));
        assertEquals(List.of(s1.snapshot().vdiId(), s2.snapshot().vdiId()).stream().sorted().toList(), cat.reclaiming());
    }

    @Test
    void bothSetsSurviveTheFileAndAFileFromBeforeThemStillReads() {
        Inode vm = sealedVm();
        Inode open = create("open", A); // left unsealed
        cat.apply(CatalogueOp.lock("vm", vm.vdiId(), A));
        cat.apply(CatalogueOp.snapshot("vm", "s1", 20, A));
        cat.apply(CatalogueOp.delete("vm@s1"));
        byte[] file = cat.snapshot();

        Catalogue back = newCatalogue();
        back.restore(file, B);
        assertTrue(back.isUnsealed(open.vdiId()));
        assertEquals(cat.reclaiming(), back.reclaiming());
        assertArrayEquals(file, back.snapshot());

        // Today's file without both sets is the file of before: nothing unsealed, every placeholder looked at again.
        Catalogue none = newCatalogue();
        none.apply(CatalogueOp.create("x", 1 << 20, 0, 10));
        none.apply(CatalogueOp.delete("x"));
        none.apply(CatalogueOp.reclaim(CatalogueRules.hashVid("x"), A));
        none.apply(CatalogueOp.reclaimed(CatalogueRules.hashVid("x"), A));
        none.apply(CatalogueOp.create("y", 1 << 20, 0, 10));
        byte[] now = none.snapshot();
        byte[] old = Arrays.copyOf(now, now.length - 16); // unsealed: count and y's id; pending and readers: count 0
        Catalogue read = newCatalogue();
        read.restore(old, B);
        assertFalse(read.isUnsealed(read.lookup("y").vdiId()));
        assertEquals(List.of(CatalogueRules.hashVid("x")), read.reclaiming());
    }

    @Test
    void aSnapshotOpenOnSomeNodeIsNotDeletedUntilItsReadersAreGone() {
        Inode vm = sealedVm();
        cat.apply(CatalogueOp.lock("vm", vm.vdiId(), A));
        cat.apply(CatalogueOp.snapshot("vm", "s1", 20, A));
        cat.apply(CatalogueOp.lock("vm@s1", vm.vdiId(), A));
        cat.apply(CatalogueOp.lock("vm@s1", vm.vdiId(), B)); // any number of readers
        KelpieException e = assertThrows(KelpieException.class, () -> cat.apply(CatalogueOp.delete("vm@s1")));
        assertEquals(Status.VDI_LOCKED, e.status());
        assertTrue(e.getMessage().contains("127.0.0.1:7000, 127.0.0.1:7100"), e.getMessage());

        // A joiner learns the readers; a restarted reader's own entries are dropped (it has nothing open).
        Catalogue joined = newCatalogue();
        joined.restore(cat.snapshotWithLocks(), "c3@127.0.0.1:7200");
        assertThrows(KelpieException.class, () -> joined.apply(CatalogueOp.delete("vm@s1")));
        Catalogue restarted = newCatalogue();
        restarted.restore(cat.snapshotWithLocks(), A);
        restarted.apply(CatalogueOp.unlock(vm.vdiId(), B));
        restarted.apply(CatalogueOp.delete("vm@s1"));

        cat.apply(CatalogueOp.unlock(vm.vdiId(), A));
        cat.retainLocks(java.util.Set.of(A)); // B crashed
        cat.apply(CatalogueOp.delete("vm@s1"));
        assertTrue(cat.byId(vm.vdiId()).deleted());
        assertEquals(Status.NO_VDI, assertThrows(KelpieException.class,
                () -> cat.apply(CatalogueOp.lock("vm@s1", vm.vdiId(), B))).status(), "a deleted snapshot is opened by nobody");
    }
}
