package io.kelpie.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SizeAndJsonTest {
    private final SizeConverter sizes = new SizeConverter();

    @Test
    void sizesTakeBinarySuffixes() {
        assertEquals(4096L, sizes.convert("4096"));
        assertEquals(512L << 10, sizes.convert("512K"));
        assertEquals(10L << 20, sizes.convert("10M"));
        assertEquals(10L << 20, sizes.convert("10m"));
        assertEquals(3L << 30, sizes.convert("3G"));
        assertEquals(3L << 30, sizes.convert("3GiB"));
        assertEquals(4L << 40, sizes.convert("4T"));
        assertEquals(3L << 29, sizes.convert("1.5G"));
        assertEquals(0L, sizes.convert("0"));
    }

    @Test
    void badSizesAreRefusedClearly() {
        for (String bad : new String[] {"", "K", "ten", "-1", "4X", "1..5G", "99999999999T"}) {
            CommandLine.TypeConversionException e = assertThrows(CommandLine.TypeConversionException.class,
                    () -> sizes.convert(bad), bad);
            assertTrue(e.getMessage().contains("invalid size"), e.getMessage());
        }
    }

    @Test
    void jsonEscapesStrings() {
        String json = new Json().beginArray().beginObject().field("s", "a\"b\\c\n\t\u0001é").field("n", -3)
                .field("b", true).key("l").beginArray().value("x").value("y").endArray().endObject().endArray().toString();
        assertEquals("[{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001é\",\"n\":-3,\"b\":true,\"l\":[\"x\",\"y\"]}]", json);
    }
}
