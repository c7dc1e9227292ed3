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

@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = {"Take a read-only snapshot of a VDI, cluster-wide. The VDI's current content becomes the",
                "snapshot NAME@TAG (and NAME@ID: snapshot ids count up per VDI); the VDI goes on under a new",
                "VDI id, sharing every object with the snapshot until it is written (copy-on-write).",
                "Safe while clients write: writes acknowledged before it are in the snapshot, later ones are",
                "not. Read it over NBD as export NAME@TAG; clone, roll back to or delete it by tag."})
final class VdiSnapshotCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to snapshot.")
    String name;

    @Option(names = {"-s", "--snapshot"}, paramLabel = "TAG", defaultValue = "",
            description = "Tag of the snapshot, unique per VDI, not all digits (default: none, the id only).")
    String tag;

    @Override
    int run(AdminClient client) {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).string(tag);
        VdiInfo s = VdiCalls.decodeOne(client.call(PeerRequest.withPayload(PeerConstants.VDI_SNAPSHOT, 0, 0, 0, 0, args)));
        ctx().out.println("snapshot '" + s.name() + "@" + (s.tag().isEmpty() ? String.valueOf(s.snapId()) : s.tag())
                + "' taken (snapshot id " + s.snapId() + ", VDI id " + Text.vid(s.vdiId()) + ")");
        return 0;
    }
}
