package io.kelpie;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layers stay layered: no two packages of src/main import each other, directly or through
 * others, and the wire protocol knows nothing of the node. Reads the sources' import lines.
 */
class PackageCyclesTest {
    private static final Path ROOT = Path.of("src/main/java/io/kelpie");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.kelpie\\.([a-z.]+?)\\.[A-Z]", Pattern.MULTILINE);

    static Map<String, Set<String>> imports() throws IOException {
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = ROOT.relativize(f.getParent()).toString().replace('/', '.');
                Set<String> out = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        out.add(m.group(1));
                    }
                }
            }
        }
        return deps;
    }

    /** Every package that reaches itself again through its imports, with the path it takes. */
    static List<String> cycles(Map<String, Set<String>> deps) {
        List<String> found = new ArrayList<>();
        for (String start : deps.keySet()) {
            // breadth first from start: the shortest way back to it, if any
            Map<String, String> parent = new TreeMap<>();
            Deque<String> todo = new ArrayDeque<>(List.of(start));
            while (!todo.isEmpty() && !parent.containsKey(start)) {
                String p = todo.poll();
                for (String q : deps.getOrDefault(p, Set.of())) {
                    if (!parent.containsKey(q)) {
                        parent.put(q, p);
                        todo.add(q);
                    }
                }
            }
            if (parent.containsKey(start)) {
                List<String> path = new ArrayList<>(List.of(start));
                for (String p = parent.get(start); !p.equals(start); p = parent.get(p)) {
                    path.add(0, p);
                }
                path.add(0, start);
                found.add(String.join(" -> ", path));
            }
        }
        return found;
    }

    @Test
    void noPackageImportsItselfBack() throws IOException {
        Map<String, Set<String>> deps = imports();
        assertTrue(deps.containsKey("node") && deps.containsKey("peer"), "sources not found under " + ROOT.toAbsolutePath());
        assertEquals(List.of(), cycles(deps));
    }

    @Test
    void theWireProtocolNeedsOnlyCommonAndStoreTypes() throws IOException {
        assertEquals(Set.of("common", "store"), imports().get("peer"));
        assertEquals(Set.of(), imports().get("nbd"));
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> deps = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
        assertEquals(List.of("a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"), cycles(new TreeMap<>(deps)));
    }
}
