package io.kelpie.common;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObjectIdsTest {
    @Test
    void sheepdogBitLayout() {
        assertEquals(0x007c2b2500000005L, ObjectIds.dataOid(0x7c2b25, 5));
        assertEquals(0x807c2b2500000000L, ObjectIds.inodeOid(0x7c2b25));
        assertTrue(ObjectIds.isInode(ObjectIds.inodeOid(1)));
        assertFalse(ObjectIds.isInode(ObjectIds.dataOid(1, 1)));
        assertTrue(ObjectIds.isData(ObjectIds.dataOid(0xffffff, 0xffffffffL)));
        assertEquals(0xffffff, ObjectIds.vid(ObjectIds.dataOid(0xffffff, 0xffffffffL)));
        assertEquals(0xffffffffL, ObjectIds.index(ObjectIds.dataOid(0xffffff, 0xffffffffL)));
        assertEquals(0x7c2b25, ObjectIds.vid(ObjectIds.inodeOid(0x7c2b25)));
        assertEquals("807c2b2500000000", ObjectIds.toHex(ObjectIds.inodeOid(0x7c2b25)));
        assertEquals(ObjectIds.inodeOid(0x7c2b25), ObjectIds.fromHex("807c2b2500000000"));
    }

    @Test
    void hexIsSixteenDigitsAndReadsBack() {
        for (long oid : new long[] {0, 1, 0xabcL, 0x0029ba7500000003L, 0x807ffd6400000000L, -1}) {
            String hex = ObjectIds.toHex(oid);
            assertEquals(String.format("%016x", oid), hex);
            assertEquals(oid, ObjectIds.fromHex(hex));
        }
    }
}
