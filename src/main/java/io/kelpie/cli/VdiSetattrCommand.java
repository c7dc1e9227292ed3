package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

@Command(name = "setattr", mixinStandardHelpOptions = true,
        description = {"Set attribute KEY of a VDI (or of a snapshot, NAME@TAG) to VALUE, or to standard input",
                "(any bytes, at most 64 KiB) when VALUE is omitted. Attributes are decided in the cluster's",
                "order, kept by every node, and deleted with the VDI; a snapshot keeps the VDI's as they were.",
                "Example: kelpie vdi setattr vm1 owner alice; kelpie vdi setattr -x vm1 lock < token"})
final class VdiSetattrCommand extends AdminCommand {
    /** One byte over the limit, so that a longer input is refused, not cut short. */
    private static final int READ_LIMIT = (64 << 10) + 1;

    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI, or NAME@TAG for a snapshot.")
    String name;

    @Parameters(index = "1", paramLabel = "KEY", description = "The attribute (at most 256 bytes).")
    String key;

    @Parameters(index = "2", arity = "0..1", paramLabel = "VALUE", description = "The value (default: standard input).")
    String value;

    @Option(names = {"-x", "--exclusive"}, description = "Fail if KEY already exists (decided once, cluster-wide).")
    boolean exclusive;

    @Option(names = {"-d", "--delete"}, description = "Delete KEY instead (fails if it does not exist).")
    boolean delete;

    @Override
    int run(AdminClient client) throws IOException {
        if (delete && (exclusive || value != null)) {
            throw new CliError(CliError.BAD_INPUT, "-d takes no VALUE and no -x");
        }
        byte[] bytes = delete ? new byte[0]
                : value != null ? value.getBytes(StandardCharsets.UTF_8) : ctx().in.readNBytes(READ_LIMIT);
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).string(key).i32((exclusive ? 1 : 0) | (delete ? 2 : 0));
        args.writeBytes(bytes);
        client.call(PeerRequest.withPayload(PeerConstants.VDI_SETATTR, 0, 0, 0, 0, args)).release();
        return 0;
    }
}
