package io.kelpie.backup;

import io.kelpie.backup.BackupFormat.Header;
import io.kelpie.backup.BackupFormat.Snap;
import io.kelpie.backup.BackupFormat.Summary;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UTFDataFormatException;
import java.nio.ByteBuffer;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Reads a backup stream, checking as it goes: the header's crc, each record's crc and bounds, and
 * at the end the record count, byte count, the whole-stream SHA-256 and that nothing follows.
 * Any failure is a KelpieException(INVALID) saying what is wrong; a restore validates a whole
 * stream with {@link #validate} before it applies anything.
 */
public final class BackupReader {
    /** One record: data for VDI offset {@code offset}. */
    public record Record(long offset, byte[] data) {
    }

    private final MessageDigest sha = BackupWriter.sha256();
    private final DigestInputStream digesting;
    private final DataInputStream in;
    private final Header header;
    private long records;
    private long bytes;
    private boolean ended;

    public BackupReader(InputStream src) throws IOException {
        digesting = new DigestInputStream(src, sha);
        in = new DataInputStream(digesting);
        header = readHeader();
    }

    /** Reads the whole stream and returns what it holds; throws if any of it is wrong. */
    public static Summary validate(InputStream src) throws IOException {
        BackupReader r = new BackupReader(src);
        while (r.next() != null) {
            // every record is checked as it is read
        }
        return new Summary(r.header, r.records, r.bytes);
    }

    public Header header() {
        return header;
    }

    private Header readHeader() throws IOException {
        try {
            long magic = in.readLong();
            if (magic != BackupFormat.MAGIC) {
                throw BackupFormat.bad("not a Kelpie backup (bad magic)");
            }
            int version = in.readInt();
            if (version != BackupFormat.VERSION) {
                throw BackupFormat.bad("format version " + version + ", this kelpie reads version " + BackupFormat.VERSION);
            }
            String name = in.readUTF();
            long size = in.readLong();
            int objectSize = in.readInt();
            int hasFrom = in.readUnsignedByte();
            Snap from = hasFrom == 1 ? snap() : null;
            Snap to = snap();
            Header h = new Header(name, size, objectSize, from, to);
            byte[] bytes = BackupWriter.headerBytes(h);
            if (hasFrom > 1 || in.readInt() != BackupWriter.crc(bytes, 0, bytes.length)) {
                throw BackupFormat.bad("the header's checksum does not match");
            }
            if (size < 0 || objectSize <= 0 || Integer.bitCount(objectSize) != 1) {
                throw BackupFormat.bad("bad size " + size + " or object size " + objectSize);
            }
            return h;
        } catch (EOFException | UTFDataFormatException e) {
            throw BackupFormat.bad("the stream ends inside its header (truncated)");
        }
    }

    private Snap snap() throws IOException {
        return new Snap(in.readInt(), in.readInt(), in.readUTF(), in.readLong());
    }

    /** The next record, or null after a valid end marker. */
    public Record next() throws IOException {
        if (ended) {
            return null;
        }
        try {
            int type = in.read();
            if (type == BackupFormat.END) {
                end();
                return null;
            }
            if (type != BackupFormat.RECORD) {
                throw BackupFormat.bad(type < 0 ? "the stream ends after record " + records + " without its end marker (truncated)"
                        : "unknown record type " + type + " after record " + records);
            }
            byte[] pos = new byte[12];
            in.readFully(pos);
            ByteBuffer p = ByteBuffer.wrap(pos);
            long offset = p.getLong();
            int len = p.getInt();
            long obj = header.objectSize();
            if (len <= 0 || len > obj || offset < 0 || offset + len > header.size() || offset / obj != (offset + len - 1) / obj) {
                throw BackupFormat.bad("record " + records + " (offset " + offset + ", length " + len
                        + ") is out of bounds");
            }
            byte[] data = new byte[len];
            in.readFully(data);
            CRC32C crc = new CRC32C();
            crc.update(pos);
            crc.update(data);
            if (in.readInt() != (int) crc.getValue()) {
                throw BackupFormat.bad("record " + records + " (offset " + offset + ") fails its checksum");
            }
            records++;
            bytes += len;
            return new Record(offset, data);
        } catch (EOFException e) {
            throw BackupFormat.bad("the stream ends inside record " + records + " (truncated)");
        }
    }

    private void end() throws IOException {
        long n = in.readLong();
        long b = in.readLong();
        byte[] want = sha.digest();
        digesting.on(false);
        byte[] got = new byte[want.length];
        in.readFully(got);
        if (n != records || b != bytes) {
            throw BackupFormat.bad("the end marker counts " + n + " records / " + b + " bytes, the stream has "
                    + records + " / " + bytes);
        }
        if (!Arrays.equals(want, got)) {
            throw BackupFormat.bad("the stream's SHA-256 does not match");
        }
        if (in.read() >= 0) {
            throw BackupFormat.bad("bytes follow the end marker");
        }
        ended = true;
    }
}
