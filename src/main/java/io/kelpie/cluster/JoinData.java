package io.kelpie.cluster;

import io.kelpie.config.ClusterConfig;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * What a node sends with its JOIN: its cluster's id ("" before format), its latest epoch and,
 * when formatted, its whole {@link ClusterState} - a waiting group adopts the newest one.
 */
record JoinData(String clusterId, long latest, byte[] state) {

    byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(clusterId);
            out.writeLong(latest);
            Wire.writeBytes(out, state);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JoinData decode(byte[] b) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(b));
        return new JoinData(in.readUTF(), in.readLong(), Wire.readBytes(in));
    }

    /** Why a node with this join data may not join a cluster with config {@code ours}, or null. */
    static String refusal(NodeInfo joiner, byte[] data, ClusterConfig ours) {
        String theirs;
        try {
            theirs = decode(data).clusterId();
        } catch (IOException e) {
            return "node " + joiner.address() + " sent join data this node cannot read (another Kelpie version?)";
        }
        if (theirs.isEmpty()) {
            return null;
        }
        if (ours == null) {
            return "node " + joiner.address() + " belongs to cluster " + theirs
                    + " but this cluster is not formatted; start that cluster's nodes first, or clear its data directory";
        }
        if (!ours.clusterId().toString().equals(theirs)) {
            return "node " + joiner.address() + " belongs to cluster " + theirs + ", not to this cluster " + ours.clusterId()
                    + "; clear its data directory to add it here";
        }
        return null;
    }
}
