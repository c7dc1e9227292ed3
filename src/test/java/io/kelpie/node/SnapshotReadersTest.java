package io.kelpie.node;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.vdi.Vdi;
import io.kelpie.vdi.VdiManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.kelpie.vdi.VdiBytes.random;
import static io.kelpie.vdi.VdiBytes.read;
import static io.kelpie.vdi.VdiBytes.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A snapshot that a client on another node is reading is not deleted under it (its objects would
 * go, and a reused id could even show that client another VDI's data): the delete is refused until
 * that node closes it, or leaves the cluster.
 */
@Timeout(120)
class SnapshotReadersTest {
    private static final int MiB = 1 << 20;

    @TempDir
    Path root;

    @Test
    void aSnapshotReadOnAnotherNodeIsDeletedOnlyOnceItIsClosedThere() throws Exception {
        new MiniCluster(root, false).run(c -> {
            c.start(3);
            c.awaitSettled(10_000);
            c.node(0).format(2, false);
            c.awaitSettled(10_000);
            VdiManager a = c.node(0).vdis();
            a.create("vm", 16L * MiB, 0);
            byte[] data = random(8 * MiB, 21);
            write(a, "vm", 0, data);
            a.snapshot("vm", "s1");
            a.snapshot("vm", "s2");
            write(a, "vm", 0, random(8 * MiB, 22)); // the VDI reads nothing of s1 and s2 any more

            Vdi reading = c.node(1).vdis().open("vm@s1");
            KelpieException e = assertThrows(KelpieException.class, () -> a.delete("vm@s1"));
            assertEquals(Status.VDI_LOCKED, e.status());
            assertTrue(e.getMessage().contains(c.address(1)), e.getMessage());
            assertArrayEquals(data, read(reading, 0, 8 * MiB), "the reader still reads the snapshot");
            reading.close();
            a.delete("vm@s1");

            // A reader that crashes: its claim goes with it.
            Vdi gone = c.node(2).vdis().open("vm@s2");
            assertArrayEquals(data, read(gone, 0, 8 * MiB));
            assertThrows(KelpieException.class, () -> a.delete("vm@s2"));
            c.kill(2);
            c.awaitSettled(20_000);
            a.delete("vm@s2");
            assertEquals(1, a.list().size());
        });
    }
}
