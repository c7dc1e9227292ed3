package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The catalogue's attribute decisions (set, exclusive create, delete, limits, lineage) and their persistence. */
class CatalogueAttrTest {
    private static final String A = "a1@127.0.0.1:7000";

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

    private void set(String name, String key, byte[] value, boolean exclusive) {
        cat.apply(CatalogueOp.attr(name, key, value, exclusive, false));
    }

    private KelpieException refused(CatalogueOp op) {
        byte[] before = cat.snapshotWithLocks();
        KelpieException e = assertThrows(KelpieException.class, () -> cat.apply(op));
        assertArrayEquals(before, cat.snapshotWithLocks(), "a refused op changed the catalogue");
        return e;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void setOverwriteExclusiveAndDelete() {
        cat.apply(CatalogueOp.create("vm", 64L << 20, 0, 10));
        byte[] v1 = random(VdiAttributes.MAX_VALUE_BYTES, 1);
        set("vm", "k", v1, true);
        assertArrayEquals(v1, cat.attr("vm", "k"));
        KelpieException e = refused(CatalogueOp.attr("vm", "k", new byte[]{1}, true, false));
        assertEquals(Status.VDI_EXISTS, e.status());
        set("vm", "k", new byte[]{7}, false);
        assertArrayEquals(new byte[]{7}, cat.attr("vm", "k"));
        set("vm", "empty", new byte[0], false);
        assertArrayEquals(new byte[0], cat.attr("vm", "empty"));
        cat.apply(CatalogueOp.attr("vm", "k", new byte[0], false, true));
        assertEquals(Status.NO_OBJECT, assertThrows(KelpieException.class, () -> cat.attr("vm", "k")).status());
        assertEquals(Status.NO_OBJECT, refused(CatalogueOp.attr("vm", "k", new byte[0], false, true)).status());
        assertEquals(Status.NO_VDI, refused(CatalogueOp.attr("nope", "k", new byte[1], false, false)).status());
    }

    @Test
    void limits() {
        cat.apply(CatalogueOp.create("vm", 64L << 20, 0, 10));
        assertEquals(Status.TOO_BIG, refused(CatalogueOp.attr("vm", "k", new byte[VdiAttributes.MAX_VALUE_BYTES + 1], false, false)).status());
        assertEquals(Status.INVALID, refused(CatalogueOp.attr("vm", "", new byte[1], false, false)).status());
        assertEquals(Status.INVALID, refused(CatalogueOp.attr("vm", "x".repeat(257), new byte[1], false, false)).status());
        int full = VdiAttributes.MAX_BYTES_PER_VDI / VdiAttributes.MAX_VALUE_BYTES;
        for (int i = 0; i < full - 1; i++) {
            set("vm", "k" + i, new byte[VdiAttributes.MAX_VALUE_BYTES], false);
        }
        assertEquals(Status.NO_SPACE, refused(CatalogueOp.attr("vm", "more", new byte[VdiAttributes.MAX_VALUE_BYTES], false, false)).status());
        set("vm", "k0", new byte[10], false); // replacing a value counts it once
    }

    @Test
    void snapshotKeepsACopyRollbackMovesDeleteDrops() {
        Inode vm = (Inode) cat.apply(CatalogueOp.create("vm", 64L << 20, 0, 10));
        set("vm", "owner", "alice".getBytes(), false);
        cat.apply(CatalogueOp.lock("vm", vm.vdiId(), A));
        cat.apply(CatalogueOp.snapshot("vm", "s1", 20, A));
        assertArrayEquals("alice".getBytes(), cat.attr("vm@s1", "owner"));
        assertArrayEquals("alice".getBytes(), cat.attr("vm", "owner"));
        set("vm", "owner", "bob".getBytes(), false);
        set("vm@s1", "note", "snap".getBytes(), false);
        assertArrayEquals("alice".getBytes(), cat.attr("vm@1", "owner"), "the snapshot's are its own");
        assertEquals(Status.NO_OBJECT, assertThrows(KelpieException.class, () -> cat.attr("vm", "note")).status());
        cat.apply(CatalogueOp.unlock(cat.lookup("vm").vdiId(), A));
        cat.apply(CatalogueOp.rollback("vm", "vm@s1", 30, A));
        assertArrayEquals("bob".getBytes(), cat.attr("vm", "owner"), "a rollback keeps the VDI's attributes");
        cat.apply(CatalogueOp.clone("vm@s1", "c", 0, 40, A));
        assertEquals(Status.NO_OBJECT, assertThrows(KelpieException.class, () -> cat.attr("c", "owner")).status());
        cat.apply(CatalogueOp.unlock(cat.lookup("vm").vdiId(), A));
        cat.apply(CatalogueOp.delete("vm@s1"));
        cat.apply(CatalogueOp.delete("vm"));
        cat.apply(CatalogueOp.create("vm", 64L << 20, 0, 50));
        assertEquals(Status.NO_OBJECT, assertThrows(KelpieException.class, () -> cat.attr("vm", "owner")).status(),
                "a new VDI of the old name has none of the deleted one's");
    }

    @Test
    void attributesSurviveTheCatalogueFileAndTheOpWire() throws IOException {
        cat.apply(CatalogueOp.create("vm", 64L << 20, 0, 10));
        byte[] v = random(1000, 2);
        CatalogueOp op = CatalogueOp.decode(CatalogueOp.attr("vm", "bin", v, true, false).encode());
        assertEquals(CatalogueOp.Kind.ATTR, op.kind());
        assertEquals("bin", op.target());
        assertArrayEquals(v, op.value());
        cat.apply(op);
        for (byte[] saved : new byte[][]{cat.snapshot(), cat.snapshotWithLocks()}) {
            Catalogue back = newCatalogue();
            back.restore(saved, A);
            assertArrayEquals(v, back.attr("vm", "bin"));
            assertArrayEquals(cat.snapshot(), back.snapshot(), "the restored catalogue saves the same bytes");
        }
        // An old op without a value still decodes (ops from a node before attributes).
        assertArrayEquals(new byte[0], CatalogueOp.decode(CatalogueOp.barrier().encode()).value());
    }
}
