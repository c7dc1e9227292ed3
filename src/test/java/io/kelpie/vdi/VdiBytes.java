package io.kelpie.vdi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Random;

/** Byte-array I/O on VDIs for tests: writes are FUA and flushed, reads copied out and released. */
public final class VdiBytes {
    private VdiBytes() {
    }

    public static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    public static void write(Vdi v, long offset, byte[] data) {
        ByteBuf buf = Unpooled.wrappedBuffer(data);
        try {
            v.write(offset, buf, true).join();
            v.flush().join();
        } finally {
            buf.release();
        }
    }

    public static byte[] read(Vdi v, long offset, int length) {
        ByteBuf b = v.read(offset, length).join();
        try {
            byte[] out = new byte[length];
            b.getBytes(b.readerIndex(), out);
            return out;
        } finally {
            b.release();
        }
    }

    /** Opens {@code name} for just this write. */
    public static void write(VdiManager vdis, String name, long offset, byte[] data) {
        Vdi v = vdis.open(name);
        try {
            write(v, offset, data);
        } finally {
            v.close();
        }
    }

    /** Opens {@code name} for just this read. */
    public static byte[] read(VdiManager vdis, String name, long offset, int length) {
        Vdi v = vdis.open(name);
        try {
            return read(v, offset, length);
        } finally {
            v.close();
        }
    }
}
