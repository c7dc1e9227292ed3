package io.kelpie.cli;

import io.kelpie.backup.BlockDiff;
import io.kelpie.common.Sizes;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.TreeSet;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Copy VDI NAME (or snapshot NAME@TAG) into FILE as a sparse raw image of the VDI's size:",
                "only allocated objects are read, and zero blocks are skipped over, not written. '-' writes",
                "every byte to standard output instead; --format writes any format qemu-img does.",
                "Example: kelpie vdi export vm1@before-upgrade vm1.raw"})
final class VdiExportCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to export (NAME@TAG for a snapshot).")
    String name;

    @Parameters(index = "1", paramLabel = "FILE", description = "The file to write (replaced if it exists), or - for stdout.")
    String file;

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT", defaultValue = "raw",
            description = "Output format: raw (default) or any qemu-img writes (qcow2, vmdk, ...), through a temporary raw file.")
    String format;

    @Option(names = "--tmp-dir", paramLabel = "DIR",
            description = "Where the raw image is kept while qemu-img converts it (default: java.io.tmpdir).")
    Path tmpDir;

    @Mixin
    ProgressOption progressOption;

    @Override
    int run(AdminClient client) throws IOException {
        VdiInfo vdi = VdiCalls.lookup(client, name);
        TreeSet<Long> allocated = new TreeSet<>(VdiBackupCommand.objects(client, name).keySet());
        if (file.equals("-")) {
            if (!format.equals("raw")) {
                throw new CliError(2, "--format " + format + " needs a FILE: qemu-img cannot write to a pipe");
            }
            if (Terminal.isTty(ctx(), 1)) {
                throw new CliError(CliError.BAD_INPUT, "refusing to write a disk image to a terminal; redirect it: > FILE");
            }
            return toStream(client, vdi, allocated, ctx().rawOut);
        }
        Path out = Path.of(file);
        if (format.equals("raw")) {
            toSparseFile(client, vdi, allocated, out);
        } else {
            QemuImg qemu = QemuImg.find();
            if (qemu == null) {
                throw QemuImg.missing(out, "is to be written as " + format);
            }
            Path raw = Files.createTempFile(tmpDir != null ? tmpDir : Path.of(System.getProperty("java.io.tmpdir")),
                    "kelpie-export", ".raw");
            raw.toFile().deleteOnExit(); // Ctrl-C while it runs
            try {
                toSparseFile(client, vdi, allocated, raw);
                try (Progress bar = progressOption.bytes(ctx(), "convert", vdi.size())) {
                    qemu.convert(raw, "raw", out, format, bar, vdi.size());
                }
            } finally {
                Files.deleteIfExists(raw);
            }
        }
        ctx().out.println("exported VDI '" + name + "' (" + Sizes.format(vdi.size()) + ", " + allocated.size()
                + " allocated objects) to " + out + (format.equals("raw") ? "" : " as " + format));
        return 0;
    }

    /** Reads every allocated object, pipelined, and writes its non-zero blocks where they belong. */
    private void toSparseFile(AdminClient client, VdiInfo vdi, TreeSet<Long> allocated, Path out) throws IOException {
        long objectSize = vdi.objectSize();
        RandomAccessFile opened;
        try {
            opened = new RandomAccessFile(out.toFile(), "rw");
        } catch (IOException e) {
            throw new CliError(CliError.BAD_INPUT, "cannot write " + out + ": " + e.getMessage());
        }
        try (RandomAccessFile raf = opened;
             Pipeline pipeline = new Pipeline();
             Progress progress = progressOption.bytes(ctx(), "export", vdi.size())) {
            raf.setLength(0); // what the file held before must not show through the holes
            FileChannel ch = raf.getChannel();
            long covered = 0; // progress: the VDI up to the end of the object last sent for, holes included
            ArrayDeque<Long> pending = new ArrayDeque<>();
            for (long index : allocated) {
                if (pipeline.full()) {
                    writeRuns(ch, pipeline.next(), pending.poll() * objectSize);
                    progress.stepTo(pipeline.consumedBytes());
                }
                long at = index * objectSize;
                long end = Math.min(vdi.size(), at + objectSize);
                pipeline.add(client.send(VdiCalls.read(name, at, (int) (end - at))), end - covered);
                pending.add(index);
                covered = end;
            }
            while (!pipeline.isEmpty()) {
                writeRuns(ch, pipeline.next(), pending.poll() * objectSize);
                progress.stepTo(pipeline.consumedBytes());
            }
            raf.setLength(vdi.size()); // the holes at the end: a length, not bytes
            progress.finish("export of '" + name + "': " + Sizes.format(vdi.size()) + ", " + allocated.size() + " objects read");
        }
    }

    private static void writeRuns(FileChannel ch, ByteBuf data, long at) throws IOException {
        byte[] bytes;
        try {
            bytes = new byte[data.readableBytes()];
            data.getBytes(data.readerIndex(), bytes);
        } finally {
            data.release();
        }
        for (BlockDiff.Run r : BlockDiff.runs(null, bytes)) {
            ByteBuffer b = ByteBuffer.wrap(bytes, r.start(), r.length());
            while (b.hasRemaining()) {
                ch.write(b, at + b.position());
            }
        }
    }

    /** Every byte in order, holes as zeros (a pipe cannot seek); allocated objects read pipelined. */
    private int toStream(AdminClient client, VdiInfo vdi, TreeSet<Long> allocated, OutputStream out) throws IOException {
        long objectSize = vdi.objectSize();
        byte[] zeros = new byte[(int) objectSize];
        try (Pipeline pipeline = new Pipeline(); Progress progress = progressOption.bytes(ctx(), "export", vdi.size())) {
            long written = 0;
            for (long at = 0; at < vdi.size(); at += objectSize) {
                int len = (int) Math.min(objectSize, vdi.size() - at);
                if (allocated.contains(at / objectSize)) {
                    if (pipeline.full()) {
                        written += drainOne(pipeline, out);
                    }
                    pipeline.add(client.send(VdiCalls.read(name, at, len)), len);
                } else {
                    while (!pipeline.isEmpty()) { // the data before the hole goes first
                        written += drainOne(pipeline, out);
                    }
                    out.write(zeros, 0, len);
                    written += len;
                }
                progress.stepTo(written);
            }
            while (!pipeline.isEmpty()) {
                written += drainOne(pipeline, out);
            }
            out.flush();
            progress.finish("export of '" + name + "': " + Sizes.format(vdi.size()) + " to standard output");
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("Broken pipe")) {
                return VdiReadCommand.BROKEN_PIPE;
            }
            throw new CliError(CliError.BAD_INPUT, "cannot write to standard output: " + e.getMessage());
        }
        return 0;
    }

    private static int drainOne(Pipeline pipeline, OutputStream out) throws IOException {
        ByteBuf data = pipeline.next();
        try {
            int n = data.readableBytes();
            data.getBytes(data.readerIndex(), out, n);
            return n;
        } finally {
            data.release();
        }
    }
}
