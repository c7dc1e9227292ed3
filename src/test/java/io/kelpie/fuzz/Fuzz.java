package io.kelpie.fuzz;

import io.netty.util.ResourceLeakDetector;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A small property-based test runner on plain JUnit 5: a property is a generator, a check and a
 * number of tries. Each try draws its case from its own seed, so a failure names the one seed that
 * replays it ({@code -Dkelpie.fuzz.seed=S} starts the run there); the failing case is then shrunk
 * greedily (the first smaller candidate that still fails wins, until none does) and reported in
 * its smallest form, ready to be kept as a plain regression test.
 *
 * <p>Written here rather than taken from a library: jqwik, the JUnit-platform choice, asks since
 * 1.10 not to be used by AI coding agents, which write much of this project.
 */
public final class Fuzz {
    /** Draws one case. */
    public interface Gen<T> {
        T next(SplittableRandom r);
    }

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    /** Checks spent on shrinking one failure at most: shrinking must not turn a red run into a slow one. */
    private static final int SHRINK_BUDGET = 3000;

    static {
        // The surefire argLine sets paranoid; an IDE run of one property gets it too.
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        }
    }

    private Fuzz() {
    }

    /**
     * Runs {@code property} on {@code tries} cases (scaled by {@code -Dkelpie.fuzz.scale}); throws
     * an AssertionError naming the seed and the shrunk case when any check throws.
     *
     * @param shrink smaller variants of a failing case, most aggressive first
     */
    public static <T> void check(String name, int tries, Gen<T> gen, Function<T, List<T>> shrink, Consumer<T> property) {
        String given = System.getProperty("kelpie.fuzz.seed");
        long base = given != null ? Long.parseLong(given) : new SplittableRandom().nextLong();
        double scale = Double.parseDouble(System.getProperty("kelpie.fuzz.scale", "1"));
        int n = Math.max(1, (int) (tries * scale));
        for (int i = 0; i < n; i++) {
            long seed = base + i * GOLDEN;
            T c = gen.next(new SplittableRandom(seed));
            Throwable failure = failure(property, c);
            if (failure != null) {
                Shrunk<T> s = shrink(c, failure, shrink, property);
                AssertionError e = new AssertionError(name + " falsified at try " + (i + 1) + " of " + n
                        + " (replay: -Dkelpie.fuzz.seed=" + seed + "); shrunk in " + s.steps + " steps to\n  " + s.value
                        + "\n  failing with " + s.failure, s.failure);
                e.addSuppressed(new AssertionError("original case: " + c, failure));
                throw e;
            }
        }
    }

    private record Shrunk<T>(T value, Throwable failure, int steps) {
    }

    private static <T> Shrunk<T> shrink(T c, Throwable failure, Function<T, List<T>> shrink, Consumer<T> property) {
        int steps = 0;
        int budget = SHRINK_BUDGET;
        boolean progress = true;
        while (progress && budget > 0) {
            progress = false;
            for (T candidate : shrink.apply(c)) {
                if (--budget < 0) {
                    break;
                }
                Throwable f = failure(property, candidate);
                // the same kind of failure only: a smaller case must not wander off to another finding
                if (f != null && f.getClass() == failure.getClass()) {
                    c = candidate;
                    failure = f;
                    steps++;
                    progress = true;
                    break;
                }
            }
        }
        return new Shrunk<>(c, failure, steps);
    }

    private static <T> Throwable failure(Consumer<T> property, T c) {
        try {
            property.accept(c);
            return null;
        } catch (Throwable t) { // an escaping exception of any kind is the finding
            return t;
        }
    }
}
