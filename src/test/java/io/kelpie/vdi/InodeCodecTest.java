package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class InodeCodecTest {
    static Inode sample(long version) {
        return new Inode("disk-é", "", 1_700_000_000_000L, 0, 10L << 30, 3, 22, 1, 0x7c2b25, 0, version, false);
    }

    static ByteBuffer twoSlots(Inode... headers) {
        ByteBuffer both = ByteBuffer.allocate(2 * InodeCodec.SLOT_SIZE);
        for (Inode in : headers) {
            both.put((int) InodeCodec.slotOffset(in.version()), InodeCodec.encodeHeader(in), 0, InodeCodec.SLOT_SIZE);
        }
        return both;
    }

    @Test
    void roundTripsEveryField() {
        Inode in = new Inode("n", "snap1", 1, 2, 3, 4, 22, 5, 6, 7, 8, true);
        assertEquals(in, InodeCodec.decodeSlot(InodeCodec.encodeHeader(in)));
    }

    @Test
    void newestValidSlotWins() {
        Inode v1 = sample(1);
        Inode v2 = sample(2).withSize(20L << 30);
        assertEquals(v2.size(), InodeCodec.decodeHeader(twoSlots(v1, v2), 0).size());
    }

    @Test
    void tornNewSlotFallsBackToPrevious() {
        Inode v1 = sample(1);
        Inode v2 = v1.withSize(20L << 30);
        ByteBuffer both = twoSlots(v1, v2);
        // a crash half way through writing slot 0 (version 2): only its first bytes landed
        both.put((int) InodeCodec.slotOffset(2) + 40, (byte) 0x5a);
        Inode got = InodeCodec.decodeHeader(both, 0);
        assertEquals(v1, got);
    }

    @Test
    void everyByteOfTheHeaderIsCovered() {
        ByteBuffer slot = InodeCodec.encodeHeader(sample(1));
        for (int i = 0; i < 576; i++) {
            ByteBuffer copy = ByteBuffer.allocate(slot.capacity());
            copy.put(slot.duplicate()).flip();
            copy.put(i, (byte) (copy.get(i) ^ 1));
            assertNull(InodeCodec.decodeSlot(copy), "flip at byte " + i + " went unnoticed");
        }
    }

    @Test
    void noValidSlotIsAnError() {
        assertThrows(KelpieException.class, () -> InodeCodec.decodeHeader(ByteBuffer.allocate(8192), 1));
    }

    @Test
    void tableEntriesFollowTheHeaders() {
        assertEquals(8192, InodeCodec.tableEntryOffset(0));
        assertEquals(8192 + 4L * 1000, InodeCodec.tableEntryOffset(1000));
    }
}
