package io.kelpie.fuzz;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A fuzz case for a stream decoder: valid frames (typed, so an oracle knows what they mean), at
 * most one mutation of their encoding, and the sizes of the pieces the wire arrives in. Mutations
 * are placed relative to a frame, so shrinking (fewer frames, fewer pieces, no mutation, simpler
 * frames) keeps them where they were.
 */
public record WireCase<F>(List<F> frames, Mutation mutation, int[] pieces) {
    /** How a protocol encodes its frames and which simpler frames a failing one may shrink to. */
    public interface Codec<F> {
        byte[] encode(F frame);

        List<F> simpler(F frame);
    }

    public enum Kind { NONE, FLIP, SET, TRUNCATE, INSERT, DELETE, FIELD }

    /**
     * One change to the encoded stream at {@code offset} into frame {@code frame} (wrapped to its
     * length): FLIP bit {@code value & 7}, SET a byte, TRUNCATE there, INSERT {@code data}, DELETE
     * {@code value} bytes, or overwrite a u32 FIELD with {@code value}.
     */
    public record Mutation(Kind kind, int frame, int offset, int value, byte[] data) {
        public static final Mutation NONE = new Mutation(Kind.NONE, 0, 0, 0, new byte[0]);

        @Override
        public String toString() {
            return kind == Kind.NONE ? "NONE" : kind + "(frame " + frame + " +" + offset + ", value " + value
                    + (data.length > 0 ? ", " + data.length + " bytes" : "") + ")";
        }
    }

    /** The stream as sent, where it first differs from the valid encoding, and whether it was cut short. */
    public record Wire(byte[] bytes, int firstChanged, boolean truncated, int[] frameEnds) {
        /** How many leading frames lie wholly before the first changed byte: those must decode unchanged. */
        public int intactFrames() {
            int n = 0;
            while (n < frameEnds.length && frameEnds[n] <= firstChanged) {
                n++;
            }
            return n;
        }
    }

    /** A random mutation of one of {@code frames} frames; FIELD picks one of {@code fieldOffsets}. */
    public static Mutation mutation(SplittableRandom r, int frames, int... fieldOffsets) {
        if (frames == 0) {
            return Mutation.NONE;
        }
        Kind k = Kind.values()[1 + r.nextInt(Kind.values().length - 1)];
        int frame = r.nextInt(frames);
        int offset = r.nextInt(64);
        int value = r.nextInt();
        byte[] data = new byte[0];
        switch (k) {
            case INSERT -> {
                data = new byte[1 + r.nextInt(r.nextBoolean() ? 4 : 64)];
                r.nextBytes(data);
            }
            case DELETE -> value = 1 + r.nextInt(r.nextBoolean() ? 4 : 64);
            case FIELD -> {
                offset = fieldOffsets[r.nextInt(fieldOffsets.length)];
                // the interesting lengths: none, tiny, just off, huge, all ones
                int[] special = {0, 1, 27, 28, 65536, 65537, Integer.MAX_VALUE, -1, 64 << 20, (64 << 20) + 1};
                value = r.nextBoolean() ? special[r.nextInt(special.length)] : r.nextInt(1 << r.nextInt(31));
            }
            default -> {
            }
        }
        return new Mutation(k, frame, offset, value, data);
    }

    /** Piece sizes: a mix of single bytes, header-sized bits and socket-read-sized runs. */
    public static int[] pieces(SplittableRandom r) {
        int[] p = new int[r.nextInt(12)];
        for (int i = 0; i < p.length; i++) {
            p[i] = switch (r.nextInt(3)) {
                case 0 -> 1 + r.nextInt(4);
                case 1 -> 1 + r.nextInt(64);
                default -> 1 + r.nextInt(96 << 10);
            };
        }
        return p;
    }

    public Wire wire(Codec<F> codec) {
        byte[][] enc = new byte[frames.size()][];
        int[] ends = new int[frames.size()];
        int total = 0;
        for (int i = 0; i < enc.length; i++) {
            enc[i] = codec.encode(frames.get(i));
            total += enc[i].length;
            ends[i] = total;
        }
        byte[] w = new byte[total];
        for (int i = 0, at = 0; i < enc.length; at += enc[i].length, i++) {
            System.arraycopy(enc[i], 0, w, at, enc[i].length);
        }
        Mutation m = mutation;
        if (m.kind() == Kind.NONE || enc.length == 0) {
            return new Wire(w, w.length, false, ends);
        }
        int f = Math.min(m.frame(), enc.length - 1);
        int start = ends[f] - enc[f].length;
        int pos = start + Math.floorMod(m.offset(), enc[f].length);
        return switch (m.kind()) {
            case FLIP -> {
                w[pos] ^= (byte) (1 << (m.value() & 7));
                yield new Wire(w, pos, false, ends);
            }
            case SET -> {
                w[pos] = (byte) m.value();
                yield new Wire(w, pos, false, ends);
            }
            case TRUNCATE -> new Wire(Arrays.copyOf(w, pos), pos, true, ends);
            case INSERT -> {
                byte[] x = new byte[w.length + m.data().length];
                System.arraycopy(w, 0, x, 0, pos);
                System.arraycopy(m.data(), 0, x, pos, m.data().length);
                System.arraycopy(w, pos, x, pos + m.data().length, w.length - pos);
                yield new Wire(x, pos, false, ends);
            }
            case DELETE -> {
                int n = Math.min(m.value(), w.length - pos);
                byte[] x = new byte[w.length - n];
                System.arraycopy(w, 0, x, 0, pos);
                System.arraycopy(w, pos + n, x, pos, w.length - pos - n);
                yield new Wire(x, pos, false, ends);
            }
            case FIELD -> {
                int at = Math.min(start + m.offset(), w.length - 4);
                for (int b = 0; b < 4; b++) {
                    w[at + b] = (byte) (m.value() >>> (24 - 8 * b));
                }
                yield new Wire(w, at, false, ends);
            }
            default -> throw new IllegalStateException();
        };
    }

    /**
     * The wire cut into this case's pieces (the rest as one last piece), alternately direct and
     * heap, from {@code alloc} so their release is checked with everything else.
     */
    public static List<ByteBuf> split(byte[] wire, int[] pieces, ByteBufAllocator alloc) {
        List<ByteBuf> out = new ArrayList<>();
        int at = 0;
        for (int i = 0; at < wire.length; i++) {
            int n = i < pieces.length ? Math.min(pieces[i], wire.length - at) : wire.length - at;
            ByteBuf b = i % 2 == 0 ? alloc.directBuffer(n) : alloc.heapBuffer(n);
            out.add(b.writeBytes(wire, at, n));
            at += n;
        }
        return out;
    }

    /** Smaller cases: fewer pieces, fewer frames, no mutation, then simpler frames. */
    public List<WireCase<F>> shrink(Codec<F> codec) {
        List<WireCase<F>> c = new ArrayList<>();
        if (pieces.length > 0) {
            c.add(new WireCase<>(frames, mutation, new int[0]));
            for (int i = 0; i < pieces.length; i++) {
                int[] p = new int[pieces.length - 1];
                System.arraycopy(pieces, 0, p, 0, i);
                System.arraycopy(pieces, i + 1, p, i, p.length - i);
                c.add(new WireCase<>(frames, mutation, p));
            }
        }
        int mf = mutation.kind() == Kind.NONE ? -1 : Math.min(mutation.frame(), frames.size() - 1);
        for (int i = frames.size() - 1; i >= 0; i--) {
            if (i == mf) {
                continue;
            }
            List<F> fewer = new ArrayList<>(frames);
            fewer.remove(i);
            Mutation m = mf > i ? new Mutation(mutation.kind(), mf - 1, mutation.offset(), mutation.value(), mutation.data())
                    : mutation;
            c.add(new WireCase<>(fewer, m, pieces));
        }
        if (mutation.kind() != Kind.NONE) {
            c.add(new WireCase<>(frames, Mutation.NONE, pieces));
        }
        for (int i = 0; i < frames.size(); i++) {
            for (F s : codec.simpler(frames.get(i))) {
                List<F> f = new ArrayList<>(frames);
                f.set(i, s);
                c.add(new WireCase<>(f, mutation, pieces));
            }
        }
        return c;
    }

    @Override
    public String toString() {
        return "WireCase[frames=" + frames + ", mutation=" + mutation + ", pieces=" + Arrays.toString(pieces) + "]";
    }
}
