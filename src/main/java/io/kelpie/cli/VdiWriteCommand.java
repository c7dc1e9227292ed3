package io.kelpie.cli;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.channels.FileChannel;

@Command(name = "write", mixinStandardHelpOptions = true,
        description = {"Write standard input into a VDI at OFFSET (default 0): LENGTH bytes, or all of it up to",
                "end of file. Input that would run past the end of the VDI is refused before anything is",
                "written. The data is durable when the command succeeds.",
                "Example: kelpie vdi write disk < disk.img &&",
                "         kelpie vdi read disk 0 $(stat -c%%s disk.img) | cmp - disk.img"})
final class VdiWriteCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to write.")
    String name;

    @Parameters(index = "1", arity = "0..1", paramLabel = "OFFSET", converter = SizeConverter.class, defaultValue = "0",
            description = "Byte offset to start at, K/M/G/T suffixes allowed (default: ${DEFAULT-VALUE}).")
    long offset;

    @Parameters(index = "2", arity = "0..1", paramLabel = "LENGTH", converter = SizeConverter.class,
            description = "Bytes to take from standard input (default: all of it, up to end of file).")
    Long length;

    @Mixin
    ProgressOption progressOption;

    @Override
    int run(AdminClient client) throws IOException {
        VdiInfo vdi = VdiCalls.lookup(client, name);
        if (vdi.snapshot()) {
            throw new KelpieException(Status.READ_ONLY, "VDI '" + name + "' is a read-only snapshot");
        }
        long room = vdi.size() - offset;
        if (room < 0) {
            throw new KelpieException(Status.NO_SPACE, "offset " + offset + " is beyond the end of VDI '" + name + "' ("
                    + vdi.size() + " bytes)");
        }
        if (length != null && length > room) {
            throw new KelpieException(Status.NO_SPACE, "cannot write " + length + " bytes at offset " + offset
                    + ": VDI '" + name + "' ends at " + vdi.size() + " bytes");
        }
        try (StdinSource src = StdinSource.open(ctx(), length, room)) {
            if (length == null && src.length() > room) {
                throw new KelpieException(Status.NO_SPACE, "standard input is longer than the " + room
                        + " bytes from offset " + offset + " to the end of VDI '" + name + "'; nothing was written");
            }
            stream(client, src.channel(), src.length());
        }
        return 0;
    }

    private void stream(AdminClient client, FileChannel in, long total) throws IOException {
        byte[] nameBytes = nameBytes();
        long done = 0;
        try (Pipeline pipeline = new Pipeline(); Progress progress = progressOption.bytes(ctx(), "write", total)) {
            while (done < total || !pipeline.isEmpty()) {
                while (done < total && !pipeline.full()) {
                    int n = (int) Math.min(Pipeline.CHUNK, total - done);
                    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(nameBytes.length + n);
                    try {
                        buf.writeBytes(nameBytes);
                        while (buf.writableBytes() > 0 && buf.writerIndex() < nameBytes.length + n) {
                            if (buf.writeBytes(in, nameBytes.length + n - buf.writerIndex()) < 0) {
                                throw new CliError(CliError.BAD_INPUT, "standard input ended early");
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        buf.release();
                        throw e;
                    }
                    pipeline.add(client.send(new PeerRequest(PeerConstants.VDI_WRITE, 0, 0, 0, 0, offset + done, 0, buf)), n);
                    done += n;
                }
                pipeline.next().release();
                progress.stepTo(pipeline.consumedBytes());
            }
            // acknowledged means durable: a node killed after this still has every byte
            VdiCalls.flush(client);
            progress.finish("wrote " + total + " bytes to '" + name + "'");
        }
    }

    private byte[] nameBytes() {
        ByteBuf b = Unpooled.buffer();
        new WireWriter(b).string(name);
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

}
