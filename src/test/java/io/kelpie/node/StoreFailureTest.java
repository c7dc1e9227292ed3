package io.kelpie.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node whose data directory goes away leaves the cluster by itself; the others keep serving. */
@Timeout(120)
class StoreFailureTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    @Test
    void aNodeWhoseObjectsDirectoryVanishesLeavesAndTheOthersServeTheData() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(3, false);
            c.awaitSettled(10_000);
            c.node(0).vdis().create("disk", 32L * MiB, 0);
            byte[] data = random(8 * MiB, 3);
            write(c.node(0).vdis(), "disk", 0, data);

            Node sick = c.node(2);
            try (Stream<Path> files = Files.walk(sick.dataDir().objects())) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            String reason = sick.storeFailure().get(30, TimeUnit.SECONDS);
            assertTrue(reason.contains(sick.dataDir().objects().toString()), reason);
            MiniCluster.await("the others see the sick node gone", 20_000,
                    () -> c.node(0).memberInfos().size() == 2 && c.node(1).memberInfos().size() == 2);
            assertArrayEquals(data, read(c.node(1).vdis(), "disk", 0, data.length));
            assertArrayEquals(data, read(c.node(0).vdis(), "disk", 0, data.length));
        });
    }
}
