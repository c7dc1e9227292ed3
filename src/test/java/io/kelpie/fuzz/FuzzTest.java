package io.kelpie.fuzz;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** The runner itself: a false property fails with its replay seed and a shrunk case; a true one passes. */
class FuzzTest {
    @Test
    void aFalsePropertyFailsWithTheSmallestCaseAndItsSeed() {
        // "no list holds a number of 100 or more" is false; the smallest counterexample is [100]
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.check("lists", 200, r -> {
            List<Integer> l = new ArrayList<>();
            for (int i = r.nextInt(20); i > 0; i--) {
                l.add(r.nextInt(1000));
            }
            return l;
        }, FuzzTest::smaller, l -> assertTrue(l.stream().allMatch(x -> x < 100))));
        assertTrue(e.getMessage().contains("-Dkelpie.fuzz.seed="), e.getMessage());
        assertTrue(e.getMessage().contains("\n  [100]\n"), e.getMessage());
    }

    @Test
    void aTruePropertyRunsEveryTry() {
        AtomicInteger runs = new AtomicInteger();
        Fuzz.check("true", 50, r -> r.nextInt(), x -> List.of(), x -> runs.incrementAndGet());
        assertEquals(50, runs.get());
    }

    @Test
    void shrinkingKeepsToTheSameKindOfFailure() {
        // values over 500 fail with one error, small ones with another: the report stays with the first kind seen
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.check("kinds", 10, r -> 900,
                x -> x > 0 ? List.of(x - 1) : List.of(), x -> {
                    if (x > 500) {
                        throw new IllegalStateException("big " + x);
                    }
                    throw new UnsupportedOperationException("small " + x);
                }));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertEquals("big 501", e.getCause().getMessage());
    }

    /** Drop an element, or lower one towards 100. */
    private static List<List<Integer>> smaller(List<Integer> l) {
        List<List<Integer>> c = new ArrayList<>();
        for (int i = 0; i < l.size(); i++) {
            List<Integer> d = new ArrayList<>(l);
            d.remove(i);
            c.add(d);
        }
        for (int i = 0; i < l.size(); i++) {
            if (l.get(i) > 100) {
                List<Integer> d = new ArrayList<>(l);
                d.set(i, Math.max(100, l.get(i) / 2));
                c.add(d);
                List<Integer> e = new ArrayList<>(l);
                e.set(i, l.get(i) - 1);
                c.add(e);
            }
        }
        return c;
    }
}
