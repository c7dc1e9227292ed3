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

@Command(name = "clone", mixinStandardHelpOptions = true,
        description = {"Create a writable VDI DST from snapshot TAG of SRC. It starts with the snapshot's content",
                "and shares its objects until written (copy-on-write); the snapshot cannot be changed through",
                "it. Deleting the snapshot later keeps whatever the clone still reads."})
final class VdiCloneCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "SRC", description = "The VDI whose snapshot to clone.")
    String source;

    @Parameters(index = "1", paramLabel = "DST", description = "Name of the new VDI (must not exist).")
    String name;

    @Option(names = {"-s", "--snapshot"}, paramLabel = "TAG", required = true,
            description = "The snapshot of SRC, by tag or snapshot id.")
    String tag;

    @Option(names = {"-c", "--copies"}, paramLabel = "N", defaultValue = "0",
            description = "Copies of the clone's own objects, 1..31 (default: the snapshot's).")
    int copies;

    @Override
    int run(AdminClient client) {
        if (copies < 0) {
            throw new CliError(2, "--copies must be between 1 and 31");
        }
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(source + "@" + tag).string(name).i32(copies);
        VdiInfo c = VdiCalls.decodeOne(client.call(PeerRequest.withPayload(PeerConstants.VDI_CLONE, 0, 0, 0, 0, args)));
        ctx().out.println("cloned VDI '" + c.name() + "' from '" + source + "@" + tag + "' (" + Sizes.format(c.size())
                + ", id " + Text.vid(c.vdiId()) + ", " + c.copies() + (c.copies() == 1 ? " copy)" : " copies)"));
        return 0;
    }
}
