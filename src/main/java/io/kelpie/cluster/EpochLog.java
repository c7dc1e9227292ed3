package io.kelpie.cluster;

import io.kelpie.config.DataDir;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The history of epochs this node knows, kept in {@code DATA/epochs} so that recovery can find
 * where an object lived in any earlier epoch, and {@code cluster info} can print the history.
 * Rewritten whole and atomically on every change (the log is small: one record per membership
 * change), with a CRC so a damaged file is detected rather than misread.
 */
public final class EpochLog {
    static final String FILE = "epochs";
    /** "KEP2": epochs are u64. */
    private static final int MAGIC = 0x4b455032;
    /** "KEPL": the first format, u32 epochs; still read, rewritten as KEP2 on the next change. */
    private static final int MAGIC_U32 = 0x4b45504c;

    private final DataDir dir;
    private final List<Epoch> epochs = new ArrayList<>();

    private EpochLog(DataDir dir) {
        this.dir = dir;
    }

    /** Loads the log of a data directory (empty when the node never saw an epoch). */
    public static EpochLog open(DataDir dir) throws IOException {
        EpochLog log = new EpochLog(dir);
        Path p = dir.resolve(FILE);
        if (Files.exists(p)) {
            log.epochs.addAll(decode(Files.readAllBytes(p), p));
        }
        return log;
    }

    public synchronized List<Epoch> all() {
        return List.copyOf(epochs);
    }

    /** The latest epoch, or null when there is none (never formatted). */
    public synchronized Epoch latest() {
        return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
    }

    public synchronized long latestNumber() {
        return epochs.isEmpty() ? 0 : epochs.get(epochs.size() - 1).number();
    }

    /** The epoch with this number, or null if it is not in the log. */
    public synchronized Epoch get(long number) {
        for (int i = epochs.size() - 1; i >= 0; i--) {
            if (epochs.get(i).number() == number) {
                return epochs.get(i);
            }
        }
        return null;
    }

    /** Appends an epoch newer than every one logged and persists the log. */
    public synchronized void append(Epoch e) throws IOException {
        if (e.number() <= latestNumber()) {
            throw new IllegalArgumentException("epoch " + e.number() + " is not newer than " + latestNumber());
        }
        List<Epoch> next = new ArrayList<>(epochs);
        next.add(e);
        persist(next);
    }

    /** Replaces the whole history (format starts it anew; a joining node adopts the cluster's). */
    public synchronized void replace(List<Epoch> history) throws IOException {
        for (int i = 1; i < history.size(); i++) {
            if (history.get(i).number() <= history.get(i - 1).number()) {
                throw new IllegalArgumentException("epoch history is not increasing");
            }
        }
        persist(new ArrayList<>(history));
    }

    private void persist(List<Epoch> next) throws IOException {
        byte[] bytes = encode(next);
        dir.writeAtomically(FILE, out -> out.write(bytes));
        epochs.clear();
        epochs.addAll(next);
    }

    static byte[] encode(List<Epoch> list) throws IOException {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(body);
        out.writeInt(MAGIC);
        out.writeInt(list.size());
        for (Epoch e : list) {
            e.writeTo(out);
        }
        out.flush();
        CRC32 crc = new CRC32();
        crc.update(body.toByteArray());
        out.writeLong(crc.getValue());
        out.flush();
        return body.toByteArray();
    }

    static List<Epoch> decode(byte[] bytes, Path source) throws IOException {
        if (bytes.length < 16) {
            throw new IOException("epoch log " + source + " is truncated");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 8);
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            int magic = in.readInt();
            if (magic != MAGIC && magic != MAGIC_U32) {
                throw new IOException("epoch log " + source + " has a bad magic number");
            }
            long stored = java.nio.ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong();
            if (stored != crc.getValue()) {
                throw new IOException("epoch log " + source + " is corrupt (checksum mismatch)");
            }
            int n = in.readInt();
            List<Epoch> out = new ArrayList<>(Math.max(0, Math.min(n, 4096)));
            for (int i = 0; i < n; i++) {
                out.add(Epoch.readFrom(in, magic == MAGIC_U32));
            }
            return out;
        } catch (EOFException e) {
            throw new IOException("epoch log " + source + " is truncated", e);
        }
    }
}
