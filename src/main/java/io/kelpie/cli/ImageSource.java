package io.kelpie.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The file {@code vdi import} reads, as raw bytes of a known size: a raw file in place, any other
 * format converted by qemu-img into a sparse temporary raw file first (qemu-img cannot write a pipe,
 * see {@link QemuImg}), deleted on close. Without qemu-img, a file that starts like a known image
 * format is refused rather than imported as raw bytes.
 */
final class ImageSource implements AutoCloseable {
    /** Magic numbers of the formats one would import by mistake as raw (qemu's own probes). */
    private static final String[][] MAGIC = {
            {"qcow2", "QFI\u00fb"}, {"vmdk", "KDMV"}, {"vmdk", "# Disk DescriptorFile"}, {"vdi", "<<< "},
            {"vhdx", "vhdxfile"}, {"qed", "QED\0"}, {"vpc", "conectix"}};

    private final FileChannel channel;
    private final long size;
    private final String format;
    private final Path temp;

    private ImageSource(FileChannel channel, long size, String format, Path temp) {
        this.channel = channel;
        this.size = size;
        this.format = format;
        this.temp = temp;
    }

    /**
     * @param format the image's format, or null to detect it
     * @param tmpDir where a converted image is kept while it is imported
     */
    static ImageSource open(Path file, String format, Path tmpDir, CliContext ctx, ProgressOption progress) throws IOException {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new CliError(CliError.BAD_INPUT, "cannot read " + file + ": not a readable regular file");
        }
        QemuImg qemu = QemuImg.find();
        if (format == null && qemu == null) {
            String sniffed = sniff(file);
            if (sniffed != null) {
                throw QemuImg.missing(file, "looks like a " + sniffed + " image");
            }
            format = "raw";
        }
        if ("raw".equals(format)) {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            return new ImageSource(ch, ch.size(), "raw", null);
        }
        if (qemu == null) {
            throw QemuImg.missing(file, "is in format " + format);
        }
        QemuImg.Info info = qemu.info(file, format);
        if (info.format().equals("raw")) {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            return new ImageSource(ch, ch.size(), "raw", null);
        }
        long size = info.virtualSize();
        Path tmp = Files.createTempFile(tmpDir, "kelpie-import", ".raw");
        tmp.toFile().deleteOnExit(); // Ctrl-C while qemu-img converts or the import runs
        try {
            try (Progress bar = progress.bytes(ctx, "convert", size)) {
                qemu.convert(file, info.format(), tmp, "raw", bar, size);
            }
            FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.DELETE_ON_CLOSE);
            return new ImageSource(ch, size, info.format(), tmp);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** The format whose magic the file starts with, or null. */
    private static String sniff(Path file) throws IOException {
        byte[] head = new byte[32];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        for (String[] m : MAGIC) {
            byte[] magic = m[1].getBytes(StandardCharsets.ISO_8859_1);
            if (n >= magic.length && Arrays.equals(head, 0, magic.length, magic, 0, magic.length)) {
                return m[0];
            }
        }
        return null;
    }

    long size() {
        return size;
    }

    String format() {
        return format;
    }

    /** Fills {@code into} from {@code at}; the image is {@link #size()} bytes long. */
    void read(byte[] into, long at) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(into);
        while (b.hasRemaining()) {
            if (channel.read(b, at + b.position()) < 0) {
                throw new CliError(CliError.BAD_INPUT, "the image ended early, at " + (at + b.position()) + " of " + size
                        + " bytes: did it change while it was imported?");
            }
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
        if (temp != null) {
            Files.deleteIfExists(temp);
        }
    }
}
