package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;

@Command(name = "shutdown", mixinStandardHelpOptions = true,
        description = {"Stop every node of the cluster cleanly: each flushes its objects, records a clean shutdown and exits 0.",
                "No epoch changes while they stop, so when the cluster is started again it waits until every node",
                "of that epoch is back before it serves (or until 'kelpie cluster recover force')."})
final class ClusterShutdownCommand extends AdminCommand {
    @Override
    int run(AdminClient client) {
        ByteBuf result = client.call(PeerRequest.of(PeerConstants.CLUSTER_SHUTDOWN, 0, 0, 0, 0, 0));
        try {
            ctx().out.println("cluster shutting down at epoch " + new WireReader(result).i64());
        } finally {
            result.release();
        }
        return 0;
    }
}
