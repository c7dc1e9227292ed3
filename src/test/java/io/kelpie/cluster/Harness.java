package io.kelpie.cluster;

import io.kelpie.config.DataDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/** One cluster member for tests: data dir, driver, manager and a recording application. */
final class Harness implements AutoCloseable {
    final NodeInfo info;
    final DataDir dir;
    final ClusterDriver driver;
    final RecordingApp app = new RecordingApp();
    final ClusterManager manager;

    Harness(Path root, String id, int port, ClusterDriver driver) throws IOException {
        this.info = new NodeInfo(id, "127.0.0.1", port, null, 128, 0);
        this.dir = DataDir.open(root.resolve(id));
        this.driver = driver;
        this.manager = new ClusterManager(dir, driver, info, app);
    }

    Harness start() throws InterruptedException {
        manager.start(20_000);
        return this;
    }

    @Override
    public void close() throws IOException {
        driver.close();
        dir.close();
    }

    static void await(String what, long millis, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
