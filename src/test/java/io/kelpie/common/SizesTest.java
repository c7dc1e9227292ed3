package io.kelpie.common;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SizesTest {
    @Test
    void parsesSuffixesAsPowersOf1024() {
        assertEquals(4096, Sizes.parse("4096"));
        assertEquals(10 * 1024, Sizes.parse("10K"));
        assertEquals(512L << 20, Sizes.parse("512M"));
        assertEquals(10L << 30, Sizes.parse("10g"));
        assertEquals(4L << 40, Sizes.parse("4T"));
        assertEquals(1L << 30, Sizes.parse("1GiB"));
        assertEquals(3L << 29, Sizes.parse("1.5G"));
    }

    @Test
    void rejectsGarbage() {
        for (String bad : new String[] {"", "G", "ten", "-1", "1X", "99999999999999999999T", "1.2.3M"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(bad), bad);
            assertEquals(true, e.getMessage().contains("invalid size"));
        }
    }

    @Test
    void formatsHumanSizes() {
        assertEquals("100 B", Sizes.format(100));
        assertEquals("4 MiB", Sizes.format(4L << 20));
        assertEquals("1.5 GiB", Sizes.format(3L << 29));
    }
}
