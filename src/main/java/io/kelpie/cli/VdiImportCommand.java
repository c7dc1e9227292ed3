package io.kelpie.cli;

import io.kelpie.backup.BlockDiff;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Sizes;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Copy a disk image into VDI NAME: a raw file, or any format qemu-img reads (detected with",
                "'qemu-img info'; converted into a sparse temporary raw file first). Zero blocks are not sent:",
                "a range that is zero in the image stays unallocated, or is trimmed where the VDI held data.",
                "Without --create the VDI must exist and be at least the image's size; bytes past the image",
                "are left as they are. The data is durable when the command succeeds.",
                "Example: kelpie vdi import vm1 debian.qcow2 --create"})
final class VdiImportCommand extends AdminCommand {
    /** Zero gaps up to this long inside an object are sent with the data around them: one request, not many. */
    static final int MERGE_GAP = 64 << 10;

    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to import into.")
    String name;

    @Parameters(index = "1", paramLabel = "FILE", description = "The image to import.")
    Path file;

    @Option(names = "--create", arity = "0..1", paramLabel = "SIZE", converter = SizeConverter.class, fallbackValue = "0",
            description = "Create VDI NAME first, of SIZE bytes (default: the image's virtual size).")
    Long create;

    @Option(names = {"-c", "--copies"}, paramLabel = "N", defaultValue = "0",
            description = "With --create: copies of each object (default: the cluster's).")
    int copies;

    @Option(names = {"-f", "--format"}, paramLabel = "FORMAT",
            description = "The image's format (raw, qcow2, vmdk, ...) instead of asking qemu-img.")
    String format;

    @Option(names = "--tmp-dir", paramLabel = "DIR",
            description = "Where a non-raw image is converted to raw while it is imported (default: java.io.tmpdir).")
    Path tmpDir;

    @Mixin
    ProgressOption progressOption;

    @Override
    int run(AdminClient client) throws IOException {
        Path tmp = tmpDir != null ? tmpDir : Path.of(System.getProperty("java.io.tmpdir"));
        // the image first: a file that cannot be read or converted creates nothing
        try (ImageSource img = ImageSource.open(file, format, tmp, ctx(), progressOption)) {
            VdiInfo vdi = create != null ? create(client, img) : existing(client, img);
            try {
                Set<Long> mayHold = vdi.usedObjects() + vdi.sharedObjects() == 0 ? Set.of()
                        : VdiBackupCommand.objects(client, name).keySet();
                long sent = copy(client, img, vdi, mayHold);
                ctx().out.println("imported " + file + " (" + img.format() + ", " + Sizes.format(img.size()) + ") into VDI '"
                        + name + "': " + sent + " bytes written, the rest zero");
            } catch (IOException | RuntimeException e) {
                if (create != null) {
                    throw undoCreate(client, e);
                }
                throw e;
            }
        }
        return 0;
    }

    private VdiInfo create(AdminClient client, ImageSource img) {
        long size = create == 0 ? img.size() : create;
        if (size < img.size()) {
            throw new KelpieException(Status.NO_SPACE, "--create " + size + " is smaller than the image (" + img.size()
                    + " bytes); nothing was created");
        }
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).i64(size).i32(copies);
        return VdiCalls.decodeOne(client.call(PeerRequest.withPayload(PeerConstants.VDI_CREATE, 0, 0, 0, 0, args)));
    }

    private VdiInfo existing(AdminClient client, ImageSource img) {
        VdiInfo vdi = VdiCalls.lookup(client, name);
        if (vdi.snapshot()) {
            throw new KelpieException(Status.READ_ONLY, "VDI '" + name + "' is a read-only snapshot");
        }
        if (vdi.size() < img.size()) {
            throw new KelpieException(Status.NO_SPACE, "VDI '" + name + "' has " + vdi.size() + " bytes, the image "
                    + img.size() + "; resize it (kelpie vdi resize " + name + " " + img.size()
                    + ") or import into a new VDI with --create; nothing was written");
        }
        return vdi;
    }

    /** Streams the image in object-sized chunks; returns the bytes sent as data. */
    private long copy(AdminClient client, ImageSource img, VdiInfo vdi, Set<Long> mayHold) throws IOException {
        long objectSize = vdi.objectSize();
        long skipped = 0;
        long sent = 0;
        try (Pipeline pipeline = new Pipeline(); Progress progress = progressOption.bytes(ctx(), "import", img.size())) {
            for (long at = 0; at < img.size(); at += objectSize) {
                int len = (int) Math.min(objectSize, img.size() - at);
                byte[] chunk = new byte[len];
                img.read(chunk, at);
                List<BlockDiff.Run> runs = merged(BlockDiff.runs(null, chunk));
                boolean held = mayHold.contains(at / objectSize);
                if (runs.isEmpty() && !held) {
                    skipped += len; // reads as zeros already
                } else if (runs.isEmpty()) {
                    send(client, pipeline, VdiCalls.trim(name, at, len), len);
                } else if (held) {
                    send(client, pipeline, VdiCalls.write(name, at, Unpooled.wrappedBuffer(chunk)), len); // its zeros too
                    sent += len;
                } else {
                    for (int i = 0; i < runs.size(); i++) {
                        BlockDiff.Run r = runs.get(i);
                        ByteBuf data = Unpooled.wrappedBuffer(chunk, r.start(), r.length());
                        send(client, pipeline, VdiCalls.write(name, at + r.start(), data), i == runs.size() - 1 ? len : 0);
                        sent += r.length();
                    }
                }
                progress.stepTo(skipped + pipeline.consumedBytes());
            }
            while (!pipeline.isEmpty()) {
                pipeline.next().release();
                progress.stepTo(skipped + pipeline.consumedBytes());
            }
            VdiCalls.flush(client);
            progress.finish("import of " + file + ": " + Sizes.format(img.size()) + ", " + Sizes.format(sent) + " of it data");
        }
        return sent;
    }

    private static void send(AdminClient client, Pipeline pipeline, PeerRequest req, long bytes) {
        while (pipeline.full()) {
            pipeline.next().release();
        }
        pipeline.add(client.send(req), bytes);
    }

    /** Runs of non-zero blocks, with short zero gaps between them folded in. */
    static List<BlockDiff.Run> merged(List<BlockDiff.Run> runs) {
        List<BlockDiff.Run> out = new ArrayList<>();
        for (BlockDiff.Run r : runs) {
            BlockDiff.Run last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && r.start() - (last.start() + last.length()) <= MERGE_GAP) {
                out.set(out.size() - 1, new BlockDiff.Run(last.start(), r.start() + r.length() - last.start()));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /** A failed import into a VDI it created leaves no half-imported VDI behind. */
    private RuntimeException undoCreate(AdminClient client, Exception e) {
        String what = KelpieException.messageOf(e);
        try {
            client.call(PeerRequest.withPayload(PeerConstants.VDI_DELETE, 0, 0, 0, 0, VdiCalls.nameArg(name))).release();
            what += "; VDI '" + name + "', created for the import, was deleted";
        } catch (RuntimeException undo) {
            what += "; deleting VDI '" + name + "', created for the import, failed too: " + KelpieException.messageOf(undo);
        }
        if (e instanceof KelpieException ke) {
            return new KelpieException(ke.status(), what);
        }
        return new CliError(e instanceof CliError ce ? ce.exitCode() : 1, what);
    }
}
