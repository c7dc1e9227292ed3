package io.kelpie.cli;

import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = {"Put a VDI back to the content of one of its snapshots. Everything written since that",
                "snapshot is lost (take a snapshot first to keep it); the snapshots stay. Refused while a",
                "client has the VDI open."})
final class VdiRollbackCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to roll back.")
    String name;

    @Option(names = {"-s", "--snapshot"}, paramLabel = "TAG", required = true,
            description = "The snapshot of NAME to go back to, by tag or snapshot id.")
    String tag;

    @Override
    int run(AdminClient client) {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).string(tag);
        VdiInfo v = VdiCalls.decodeOne(client.call(PeerRequest.withPayload(PeerConstants.VDI_ROLLBACK, 0, 0, 0, 0, args)));
        ctx().out.println("rolled VDI '" + v.name() + "' back to '" + name + "@" + tag + "' (new VDI id "
                + Text.vid(v.vdiId()) + ")");
        return 0;
    }
}
