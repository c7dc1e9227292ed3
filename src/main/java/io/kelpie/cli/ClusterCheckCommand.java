package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Compare every replica of every object of every VDI on every node: version, checksums",
                "and presence on the right nodes; repair what differs."},
        footer = CheckOutput.FOOTER)
final class ClusterCheckCommand extends AdminCommand {
    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    int run(AdminClient client) {
        return CheckOutput.run(client, PeerRequest.of(PeerConstants.CLUSTER_CHECK, 0, 0, 0, 0, 0), json, ctx().out);
    }
}
