package io.kelpie.cli;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;

@Command(name = "read", mixinStandardHelpOptions = true,
        description = {"Write the bytes of a VDI to standard output: from OFFSET (default 0), LENGTH bytes",
                "(default: to the end). Unwritten areas read as zeros.",
                "Example: kelpie vdi read disk 1M 4K | hexdump -C"})
final class VdiReadCommand extends AdminCommand {
    /** The exit status of a process killed by SIGPIPE. */
    static final int BROKEN_PIPE = 141;

    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to read (NAME@TAG for a snapshot).")
    String name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "OFFSET", converter = SizeConverter.class, defaultValue = "0",
            description = "Byte offset to start at, K/M/G/T suffixes allowed (default: ${DEFAULT-VALUE}).")
    long offset;

    @Parameters(index = "2", arity = "0..1", paramLabel = "LENGTH", converter = SizeConverter.class,
            description = "Bytes to read, K/M/G/T suffixes allowed (default: up to the end of the VDI).")
    Long length;

    @Mixin
    ProgressOption progressOption;

    @Override
    int run(AdminClient client) throws IOException {
        VdiInfo vdi = VdiCalls.lookup(client, name);
        if (offset > vdi.size()) {
            throw new KelpieException(Status.INVALID, "offset " + offset + " is beyond the end of VDI '" + name + "' ("
                    + vdi.size() + " bytes)");
        }
        long len = length != null ? length : vdi.size() - offset;
        if (len > vdi.size() - offset) {
            throw new KelpieException(Status.INVALID, "cannot read " + len + " bytes at offset " + offset
                    + ": VDI '" + name + "' ends at " + vdi.size() + " bytes");
        }
        OutputStream out = ctx().rawOut;
        long end = offset + len;
        long sent = offset;
        try (Pipeline pipeline = new Pipeline(); Progress progress = progressOption.bytes(ctx(), "read", len)) {
            while (sent < end || !pipeline.isEmpty()) {
                while (sent < end && !pipeline.full()) {
                    int n = (int) Math.min(Pipeline.CHUNK, end - sent);
                    pipeline.add(client.send(VdiCalls.read(name, sent, n)));
                    sent += n;
                }
                ByteBuf data = pipeline.next();
                try {
                    progress.stepBy(data.readableBytes());
                    data.getBytes(data.readerIndex(), out, data.readableBytes());
                } catch (IOException e) {
                    if (String.valueOf(e.getMessage()).contains("Broken pipe")) {
                        return BROKEN_PIPE; // the reader went away ('| head'): stop quietly, as SIGPIPE would
                    }
                    throw new CliError(CliError.BAD_INPUT, "cannot write to standard output: " + e.getMessage());
                } finally {
                    data.release();
                }
            }
            out.flush();
            progress.finish("read " + len + " bytes of '" + name + "'");
        }
        return 0;
    }
}
