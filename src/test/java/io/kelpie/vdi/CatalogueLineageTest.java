package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The catalogue's snapshot, clone, rollback and delete decisions, without any I/O. */
class CatalogueLineageTest {
    private static final String A = "a1@127.0.0.1:7000";
    private static final String B = "b2@127.0.0.1:7100";

    private final List<String> moves = new ArrayList<>();
    private final Catalogue cat = new Catalogue(2, 22, new Catalogue.Listener() {
        @Override
        public void changed(Inode in) {
        }

        @Override
        public void moved(int fromVid, Inode to) {
            moves.add(Integer.toHexString(fromVid) + "->" + Integer.toHexString(to.vdiId()));
        }
    });

    private Inode create(String name) {
        return (Inode) cat.apply(CatalogueOp.create(name, 64L << 20, 0, 10));
    }

    private Lineage.Snapshot snapshot(String name, String tag) {
        Inode cur = cat.lookup(name);
        cat.apply(CatalogueOp.lock(name, cur.vdiId(), A));
        return (Lineage.Snapshot) cat.apply(CatalogueOp.snapshot(name, tag, 20, A));
    }

    private KelpieException refused(CatalogueOp op) {
        byte[] before = cat.snapshotWithLocks();
        KelpieException e = assertThrows(KelpieException.class, () -> cat.apply(op));
        assertArrayEquals(before, cat.snapshotWithLocks(), "a refused op changed the catalogue");
        return e;
    }

    @Test
    void snapshotFreezesTheInodeAndTheVdiGoesOnUnderANewIdHoldingTheLock() {
        Inode vm = create("vm");
        Lineage.Snapshot s = snapshot("vm", "s1");
        assertEquals(vm.vdiId(), s.snapshot().vdiId());
        assertTrue(s.snapshot().isSnapshot());
        assertEquals("s1", s.snapshot().tag());
        assertEquals(1, s.snapshot().snapId());
        assertEquals(2, s.current().snapId(), "the next snapshot's id");
        assertEquals(vm.vdiId(), s.current().parentVdiId());
        assertEquals(vm.size(), s.current().size());
        assertEquals(List.of(Integer.toHexString(vm.vdiId()) + "->" + Integer.toHexString(s.current().vdiId())), moves);
        assertEquals(s.current(), cat.lookup("vm"));
        assertEquals(s.snapshot(), cat.lookup("vm@s1"));
        assertEquals(s.snapshot(), cat.lookup("vm@1"));
        assertNull(cat.lockHolder(vm.vdiId()), "the snapshot is nobody's");
        assertEquals(A, cat.lockHolder(s.current().vdiId()), "the lock moved with the VDI");

        Lineage.Snapshot untagged = (Lineage.Snapshot) cat.apply(CatalogueOp.snapshot("vm", "", 30, A));
        assertEquals(2, untagged.snapshot().snapId());
        assertEquals(untagged.snapshot(), cat.lookup("vm@2"));
        assertEquals(3, cat.list().size());
    }

    @Test
    void badSnapshotsChangeNothing() {
        Inode vm = create("vm");
        assertEquals(Status.INVALID, refused(CatalogueOp.snapshot("vm", "s1", 20, A)).status(), "not held");
        cat.apply(CatalogueOp.lock("vm", vm.vdiId(), B));
        KelpieException other = refused(CatalogueOp.snapshot("vm", "s1", 20, A));
        assertEquals(Status.VDI_LOCKED, other.status());
        cat.apply(CatalogueOp.unlock(vm.vdiId(), B));
        snapshot("vm", "s1");
        KelpieException dup = refused(CatalogueOp.snapshot("vm", "s1", 30, A));
        assertEquals(Status.VDI_EXISTS, dup.status());
        assertEquals("snapshot 'vm@s1' already exists (id 1)", dup.getMessage());
        assertEquals(Status.INVALID, refused(CatalogueOp.snapshot("vm", "12", 30, A)).status());
        assertEquals(Status.INVALID, refused(CatalogueOp.snapshot("vm", "a@b", 30, A)).status());
        assertEquals(Status.INVALID, refused(CatalogueOp.snapshot("vm@s1", "t", 30, A)).status());
        assertEquals(Status.NO_VDI, refused(CatalogueOp.snapshot("nope", "t", 30, A)).status());
    }

    @Test
    void cloneHasTheSnapshotAsParentAndRefusesBadInput() {
        create("vm");
        Lineage.Snapshot s = snapshot("vm", "s1");
        Inode c = (Inode) cat.apply(CatalogueOp.clone("vm@s1", "c", 0, 40, B));
        assertEquals(s.snapshot().vdiId(), c.parentVdiId());
        assertEquals(s.snapshot().copies(), c.copies());
        assertFalse(c.isSnapshot());
        assertEquals(B, cat.lockHolder(c.vdiId()), "held by its creator until its inode is written");
        Inode c3 = (Inode) cat.apply(CatalogueOp.clone("vm@1", "c3", 3, 40, B));
        assertEquals(3, c3.copies());

        assertEquals(Status.VDI_EXISTS, refused(CatalogueOp.clone("vm@s1", "c", 0, 50, B)).status());
        assertEquals(Status.VDI_EXISTS, refused(CatalogueOp.clone("vm@s1", "vm", 0, 50, B)).status());
        KelpieException unknown = refused(CatalogueOp.clone("vm@nope", "d", 0, 50, B));
        assertEquals(Status.NO_VDI, unknown.status());
        assertEquals("no snapshot 'vm@nope'", unknown.getMessage());
        assertEquals(Status.INVALID, refused(CatalogueOp.clone("vm", "d", 0, 50, B)).status(), "a working VDI is no source");
        assertEquals(Status.INVALID, refused(CatalogueOp.clone("vm@s1", "d@x", 0, 50, B)).status());
        assertEquals(Status.INVALID, refused(CatalogueOp.clone("vm@s1", "d", 32, 50, B)).status());
    }

    @Test
    void rollbackReplacesTheWorkingVdiAndIsRefusedWhileItIsOpen() {
        create("vm");
        create("other");
        Lineage.Snapshot s1 = snapshot("vm", "s1");
        Inode other = cat.lookup("other");
        cat.apply(CatalogueOp.lock("other", other.vdiId(), A));
        cat.apply(CatalogueOp.snapshot("other", "o1", 25, A));
        Inode cur = cat.lookup("vm");
        KelpieException open = refused(CatalogueOp.rollback("vm", "vm@s1", 30, B));
        assertEquals(Status.VDI_LOCKED, open.status(), "the snapshot left the VDI held by A");
        cat.apply(CatalogueOp.unlock(cur.vdiId(), A));
        assertEquals(Status.NO_VDI, refused(CatalogueOp.rollback("vm", "vm@o1", 30, B)).status(), "a tag of another VDI");
        assertEquals(Status.INVALID, refused(CatalogueOp.rollback("vm", "other@o1", 30, B)).status());
        assertEquals(Status.NO_VDI, refused(CatalogueOp.rollback("vm", "vm@zz", 30, B)).status());

        Lineage.Rollback r = (Lineage.Rollback) cat.apply(CatalogueOp.rollback("vm", "vm@s1", 30, B));
        assertTrue(r.replaced().deleted());
        assertEquals(cur.vdiId(), r.replaced().vdiId());
        assertEquals(s1.snapshot().vdiId(), r.current().parentVdiId());
        assertEquals(cur.snapId(), r.current().snapId());
        assertEquals(r.current(), cat.lookup("vm"));
        assertTrue(cat.byId(cur.vdiId()).deleted(), "kept as a placeholder until reclaimed");
    }

    @Test
    void deletedInodesArePlaceholdersUntilReleased() {
        Inode vm = create("vm");
        Lineage.Snapshot s = snapshot("vm", "s1");
        cat.apply(CatalogueOp.unlock(s.current().vdiId(), A));
        Inode dead = (Inode) cat.apply(CatalogueOp.delete("vm@s1"));
        assertTrue(dead.deleted());
        assertEquals(Status.NO_VDI, assertThrows(KelpieException.class, () -> cat.lookup("vm@s1")).status());
        assertEquals(List.of("vm"), cat.list().stream().map(Inode::displayName).toList());
        assertEquals(2, cat.all().size());
        assertEquals(vm.copies(), cat.copiesOf(vm.vdiId()), "recovery still needs the placeholder's copies");
        cat.apply(CatalogueOp.lock("vm", s.current().vdiId(), A));
        assertEquals("s1", ((Lineage.Snapshot) cat.apply(CatalogueOp.snapshot("vm", "s1", 50, A))).snapshot().tag(),
                "a deleted snapshot's tag may be used again");

        cat.apply(CatalogueOp.release(vm.vdiId()));
        assertNull(cat.byId(vm.vdiId()));
        assertEquals(0, cat.copiesOf(vm.vdiId()));
        // Restored from its bytes (a restart), the catalogue is the same, placeholders and all.
        Catalogue copy = new Catalogue(2, 22, new Catalogue.Listener() {
            @Override
            public void changed(Inode in) {
            }

            @Override
            public void moved(int fromVid, Inode to) {
            }
        });
        copy.restore(cat.snapshot(), A);
        assertEquals(cat.all(), copy.all());
        assertArrayEquals(cat.snapshot(), copy.snapshot());
    }

    @Test
    void opsSurviveTheirEncoding() throws Exception {
        CatalogueOp op = CatalogueOp.clone("vm@s1", "c", 2, 99, B);
        assertEquals(op, CatalogueOp.decode(op.encode()));
    }
}
