package io.kelpie.common;

import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class Fnv1aTest {
    @Test
    void matchesPublishedFnv1aVectors() {
        assertEquals(0xcbf29ce484222325L, Fnv1a.hash(new byte[0]));
        assertEquals(0xaf63dc4c8601ec8cL, Fnv1a.hash("a"));
        assertEquals(0x85944171f73967e8L, Fnv1a.hash("foobar"));
    }

    @Test
    void vdiIdOfTestIsSheepdogs() {
        assertEquals(0x7c2b25, VdiManager.hashVid("test"));
    }

    @Test
    void objectHashSpreadsNeighbours() {
        assertEquals(Fnv1a.objectHash(42), Fnv1a.objectHash(42));
        assertNotEquals(Fnv1a.objectHash(42), Fnv1a.objectHash(43));
    }
}
