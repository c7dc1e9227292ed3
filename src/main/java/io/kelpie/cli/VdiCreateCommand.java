package io.kelpie.cli;

import io.kelpie.common.Sizes;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create a VDI. It reads as zeros until written; space is used only as data is written.",
                "Names are up to 256 bytes of UTF-8 without '@', '/' or control characters."})
final class VdiCreateCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Name of the new VDI.")
    String name;

    @Parameters(index = "1", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "Size in bytes, with an optional K, M, G or T suffix; at most 4T.")
    long size;

    @Option(names = {"-c", "--copies"}, paramLabel = "N", defaultValue = "0",
            description = "Copies of each object, 1..31 (default: the cluster's, set by 'cluster format').")
    int copies;

    @Override
    int run(AdminClient client) {
        if (copies < 0) {
            throw new CliError(2, "--copies must be between 1 and 31");
        }
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).i64(size).i32(copies);
        VdiInfo vdi = VdiCalls.decodeOne(client.call(PeerRequest.withPayload(PeerConstants.VDI_CREATE, 0, 0, 0, 0, args)));
        ctx().out.println("created VDI '" + vdi.name() + "' (" + Sizes.format(vdi.size()) + ", id " + Text.vid(vdi.vdiId())
                + ", " + vdi.copies() + (vdi.copies() == 1 ? " copy)" : " copies)"));
        return 0;
    }
}
