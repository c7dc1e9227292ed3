package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;

@Command(name = "recover", mixinStandardHelpOptions = true,
        description = "Recover a cluster that cannot serve on its own.",
        subcommands = {ClusterRecoverCommand.Force.class})
final class ClusterRecoverCommand extends GroupCommand {

    @Command(name = "force", mixinStandardHelpOptions = true,
            description = {"Go on without the nodes of the last epoch that are missing: after a whole-cluster restart",
                    "that waits for a node that will never return, the nodes present become the new epoch; a",
                    "minority that lost the others for good takes the nodes it reaches as its quorum.",
                    "Writes only the missing nodes held are lost: use it only for nodes that are gone."})
    static final class Force extends AdminCommand {
        @Override
        int run(AdminClient client) {
            ByteBuf result = client.call(PeerRequest.of(PeerConstants.CLUSTER_RECOVER, 0, 0, 0, 0, 0));
            try {
                ctx().out.println("recovery forced: " + new WireReader(result).string());
            } finally {
                result.release();
            }
            return 0;
        }
    }
}
