package io.kelpie.config;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * A node's data directory: {@code kelpie.conf} (the cluster config, absent until formatted),
 * {@code objects/} (the object store) and {@code lock}, held while a node process owns the
 * directory so that a second process on it is refused.
 */
public final class DataDir implements AutoCloseable {
    private static final String CONFIG = "kelpie.conf";

    private final Path root;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private DataDir(Path root, FileChannel lockChannel, FileLock lock) {
        this.root = root;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Creates the directory if needed and locks it for this process. */
    public static DataDir open(Path root) throws IOException {
        Files.createDirectories(root);
        Path lockFile = root.resolve("lock");
        FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            String holder = Files.readString(lockFile, StandardCharsets.UTF_8).trim();
            ch.close();
            throw new KelpieException(Status.INVALID, "data directory " + root + " is in use by another kelpie node"
                    + (holder.isEmpty() ? "" : " (pid " + holder + ")"));
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        return new DataDir(root, ch, lock);
    }

    public Path root() {
        return root;
    }

    public Path objects() {
        return root.resolve("objects");
    }

    public Path resolve(String name) {
        return root.resolve(name);
    }

    /** The cluster config, or null when this node was never formatted. */
    public ClusterConfig readConfig() throws IOException {
        Path p = root.resolve(CONFIG);
        if (!Files.exists(p)) {
            return null;
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(p)) {
            props.load(in);
        }
        try {
            return ClusterConfig.fromProperties(props);
        } catch (RuntimeException e) {
            throw new IOException("corrupt cluster config " + p + ": " + e.getMessage(), e);
        }
    }

    public void writeConfig(ClusterConfig config) throws IOException {
        Properties props = config.toProperties();
        writeAtomically(CONFIG, out -> props.store(out, "Kelpie cluster configuration; written by 'kelpie cluster format'"));
    }

    public void deleteConfig() throws IOException {
        Files.deleteIfExists(root.resolve(CONFIG));
        fsyncDir(root);
    }

    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Writes a file in the directory via a temporary file, fsync and rename: all or nothing. */
    public void writeAtomically(String name, Writer writer) throws IOException {
        Path target = root.resolve(name);
        Path tmp = root.resolve(name + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            OutputStream out = java.nio.channels.Channels.newOutputStream(ch);
            writer.write(out);
            out.flush();
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDir(root);
    }

    public static void fsyncDir(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            lockChannel.close();
        }
    }
}
