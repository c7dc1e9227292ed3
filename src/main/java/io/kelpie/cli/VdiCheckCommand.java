package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Compare every replica of every object of a VDI (its inode and the data objects it owns)",
                "on every node: version, checksums and presence on the right nodes; repair what differs."},
        footer = {CheckOutput.FOOTER, "",
                "Objects a VDI shares with the snapshot it was cloned from are the snapshot's: use 'cluster check'."})
final class VdiCheckCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI (NAME@TAG for a snapshot).")
    String name;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    int run(AdminClient client) {
        PeerRequest req = PeerRequest.withPayload(PeerConstants.VDI_CHECK, 0, 0, 0, 0, VdiCalls.nameArg(name));
        return CheckOutput.run(client, req, json, ctx().out);
    }
}
