package io.kelpie.cluster;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;

/** The messages of {@link OrderedDriver}: their types, the stamp members put on them, framing helpers. */
final class Wire {
    private Wire() {
    }

    /** Ordered, from a node asking to be admitted. */
    static final byte JOIN = 1;
    /** Ordered, from a member: a member left (itself, gracefully, or announced by the leader). */
    static final byte LEAVE = 2;
    /** Ordered, from a member: an application event. */
    static final byte EVENT = 3;
    /** Unicast to a joiner: the group and the application state at its admission. */
    static final byte SNAPSHOT = 4;
    /** Unicast to a joiner: it may not join. */
    static final byte REFUSE = 5;
    /** Ordered, from a member: where it stands, so members confirm each other and groups find each other. */
    static final byte HELLO = 6;

    /**
     * Where the sender stands in its group's history: the group's lineage (chosen when it was
     * founded), its generation (membership changes applied since) and a hash of those changes.
     * Two members agree on the membership exactly when all three match.
     */
    record Stamp(String sender, long lineage, long generation, long hash) {
        void writeTo(DataOutput out) throws IOException {
            out.writeUTF(sender);
            out.writeLong(lineage);
            out.writeLong(generation);
            out.writeLong(hash);
        }

        static Stamp readFrom(DataInput in) throws IOException {
            return new Stamp(in.readUTF(), in.readLong(), in.readLong(), in.readLong());
        }
    }

    interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    /** HELLO: the sender's stamp and standing, its group's tag, claim and size; ask: answer me. */
    static Body hello(Stamp stamp, ClusterListener.Standing standing, String tag, long claim, int size, boolean ask) {
        return out -> {
            out.writeByte(HELLO);
            stamp.writeTo(out);
            out.writeByte(standing.ordinal());
            out.writeUTF(tag);
            out.writeLong(claim);
            out.writeInt(size);
            out.writeBoolean(ask);
        };
    }

    /** LEAVE of member {@code id}, announced by the stamp's sender (itself when {@code selfLeave}). */
    static Body leave(Stamp stamp, String id, long time, boolean selfLeave) {
        return out -> {
            out.writeByte(LEAVE);
            stamp.writeTo(out);
            out.writeUTF(id);
            out.writeLong(time);
            out.writeBoolean(selfLeave);
        };
    }

    static byte[] encode(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        body.write(out);
        out.flush();
        return bytes.toByteArray();
    }

    static DataInputStream input(byte[] message) {
        return new DataInputStream(new ByteArrayInputStream(message));
    }

    static void writeBytes(DataOutput out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    static byte[] readBytes(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > (256 << 20)) {
            throw new IOException("bad cluster message length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}
