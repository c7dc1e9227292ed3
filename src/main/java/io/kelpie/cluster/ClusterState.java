package io.kelpie.cluster;

import io.kelpie.config.ClusterConfig;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Everything a member hands a joiner (and a joiner offers a waiting group in its JOIN): the
 * config, the epoch history, whether the group is still assembling after a restart, the basis a
 * forced recovery set, and the application's state. Deterministic bytes, so every member that
 * adopts the same state ends up the same.
 *
 * @param config null before format
 * @param forced node ids, or null
 */
record ClusterState(ClusterConfig config, List<Epoch> history, boolean waiting, Set<String> forced, byte[] appState) {
    private static final int VERSION = 2;

    long latest() {
        return history.isEmpty() ? 0 : history.get(history.size() - 1).number();
    }

    byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(VERSION);
            out.writeBoolean(config != null);
            if (config != null) {
                writeConfig(out, config);
            }
            out.writeInt(history.size());
            for (Epoch e : history) {
                e.writeTo(out);
            }
            out.writeBoolean(waiting);
            out.writeInt(forced == null ? -1 : forced.size());
            if (forced != null) {
                for (String id : forced) {
                    out.writeUTF(id);
                }
            }
            Wire.writeBytes(out, appState);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ClusterState decode(byte[] b) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
        if (in.readByte() != VERSION) {
            throw new IOException("cluster state of another version");
        }
        ClusterConfig c = in.readBoolean() ? readConfig(in) : null;
        int n = in.readInt();
        List<Epoch> history = new ArrayList<>(Math.min(n, 4096));
        for (int i = 0; i < n; i++) {
            history.add(Epoch.readFrom(in));
        }
        boolean waiting = in.readBoolean();
        int f = in.readInt();
        Set<String> forced = null;
        if (f >= 0) {
            forced = new LinkedHashSet<>();
            for (int i = 0; i < f; i++) {
                forced.add(in.readUTF());
            }
        }
        return new ClusterState(c, history, waiting, forced, Wire.readBytes(in));
    }

    static void writeConfig(DataOutputStream out, ClusterConfig c) throws IOException {
        out.writeUTF(c.clusterId().toString());
        out.writeLong(c.createTime());
        out.writeInt(c.copies());
        out.writeInt(c.minCopies());
        out.writeInt(c.blockSizeShift());
    }

    static ClusterConfig readConfig(DataInputStream in) throws IOException {
        return new ClusterConfig(UUID.fromString(in.readUTF()), in.readLong(), in.readInt(), in.readInt(), in.readInt());
    }
}
