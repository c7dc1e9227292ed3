package io.kelpie.vdi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class InodeTableTest {
    @Test
    void loadsLittleEndianEntriesAndStartsZeroed() {
        ByteBuf raw = Unpooled.buffer(12);
        raw.writeIntLE(0x7c2b25).writeIntLE(0).writeIntLE(0x123456);
        try (InodeTable t = new InodeTable(1 << 20)) {
            t.load(raw);
            assertEquals(0x7c2b25, t.get(0));
            assertEquals(0, t.get(1));
            assertEquals(0x123456, t.get(2));
            assertEquals(0, t.get((1 << 20) - 1));
            t.set(5, 9);
            assertEquals(9, t.get(5));
            assertEquals(InodeTable.encodeEntry(9).order(ByteOrder.LITTLE_ENDIAN).getInt(0), 9);
        }
    }

    @Test
    void useAfterCloseFailsInsteadOfTouchingFreedMemory() {
        InodeTable t = new InodeTable(1024);
        t.close();
        assertThrows(RuntimeException.class, () -> t.get(0));
    }

    @Test
    void manyTablesOpenAndCloseWithoutCorruptingTheHeap() {
        for (int round = 0; round < 200; round++) {
            try (InodeTable t = new InodeTable(1 << 20)) {
                t.set(round, round + 1);
                assertEquals(round + 1, t.get(round));
            }
        }
        System.gc();
    }
}
