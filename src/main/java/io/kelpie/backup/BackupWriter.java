package io.kelpie.backup;

import io.kelpie.backup.BackupFormat.Header;
import io.kelpie.backup.BackupFormat.Snap;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.zip.CRC32C;

/** Writes a backup stream: the header at once, then records, then {@link #finish()} the end marker. */
public final class BackupWriter {
    private final MessageDigest sha;
    private final DataOutputStream out;
    private long records;
    private long bytes;

    public BackupWriter(OutputStream sink, Header h) throws IOException {
        sha = sha256();
        out = new DataOutputStream(new DigestOutputStream(sink, sha));
        byte[] b = headerBytes(h);
        out.write(b);
        out.writeInt(crc(b, 0, b.length));
    }

    /** The header as written, before its crc (the reader re-encodes what it parsed to check the crc). */
    static byte[] headerBytes(Header h) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(head);
        d.writeLong(BackupFormat.MAGIC);
        d.writeInt(BackupFormat.VERSION);
        d.writeUTF(h.name());
        d.writeLong(h.size());
        d.writeInt(h.objectSize());
        d.writeByte(h.full() ? 0 : 1);
        if (!h.full()) {
            snap(d, h.from());
        }
        snap(d, h.to());
        return head.toByteArray();
    }

    private static void snap(DataOutputStream d, Snap s) throws IOException {
        d.writeInt(s.vdiId());
        d.writeInt(s.snapId());
        d.writeUTF(s.tag());
        d.writeLong(s.ctime());
    }

    /** One record: {@code len} bytes of {@code data} from {@code at}, for VDI offset {@code offset}. */
    public void record(long offset, byte[] data, int at, int len) throws IOException {
        byte[] pos = new byte[12];
        java.nio.ByteBuffer.wrap(pos).putLong(offset).putInt(len);
        CRC32C crc = new CRC32C();
        crc.update(pos);
        crc.update(data, at, len);
        out.writeByte(BackupFormat.RECORD);
        out.write(pos);
        out.write(data, at, len);
        out.writeInt((int) crc.getValue());
        records++;
        bytes += len;
    }

    /** The end marker and the digest of the whole stream; flushes. */
    public void finish() throws IOException {
        out.writeByte(BackupFormat.END);
        out.writeLong(records);
        out.writeLong(bytes);
        out.flush();
        out.write(sha.digest()); // not through the digest any more: it is the digest
        out.flush();
    }

    public long records() {
        return records;
    }

    public long bytes() {
        return bytes;
    }

    static int crc(byte[] b, int at, int len) {
        CRC32C c = new CRC32C();
        c.update(b, at, len);
        return (int) c.getValue();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }
}
