package io.kelpie.cli;

import io.kelpie.peer.AdminMessages.ClusterInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "format", mixinStandardHelpOptions = true,
        description = {"Format a new cluster: give it an id and a default number of copies per object.",
                "Refused on a formatted cluster unless --force, which deletes every VDI."})
final class ClusterFormatCommand extends AdminCommand {
    @Option(names = {"-c", "--copies"}, paramLabel = "N", defaultValue = "1",
            description = "Default copies of every object, 1..31 (default: ${DEFAULT-VALUE}, for a one-node cluster).")
    int copies;

    @Option(names = "--min-copies", paramLabel = "N", defaultValue = "0",
            description = {"Fewest replicas a write must reach before it is acknowledged; with fewer live",
                    "replicas writes fail (EIO) instead of storing fewer copies. Default: a majority of --copies (2 of 3)."})
    int minCopies;

    @Option(names = "--force", description = "Format even a formatted cluster, deleting all its VDIs and data.")
    boolean force;

    @Override
    int run(AdminClient client) {
        ByteBuf args = Unpooled.buffer(8);
        new WireWriter(args).i32(copies).i32(minCopies);
        ByteBuf result = client.call(PeerRequest.withPayload(PeerConstants.FORMAT, force ? PeerConstants.FLAG_FORCE : 0,
                0, 0, 0, args));
        try {
            ClusterInfo info = ClusterInfo.read(new WireReader(result));
            ctx().out.println("formatted cluster " + info.clusterId() + " with " + info.copies()
                    + (info.copies() == 1 ? " copy" : " copies"));
        } finally {
            result.release();
        }
        return 0;
    }
}
