package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "delete", mixinStandardHelpOptions = true,
        description = {"Delete a VDI, or with -s one of its snapshots. Refused while NBD clients have it open.",
                "Its objects are freed as soon as no VDI, snapshot or clone reads them any more: deleting a",
                "snapshot keeps what later snapshots, the VDI and clones still share with it."})
final class VdiDeleteCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to delete (NAME@TAG for a snapshot).")
    String name;

    @Option(names = {"-s", "--snapshot"}, paramLabel = "TAG",
            description = "Delete only this snapshot of NAME (tag or snapshot id), not the VDI.")
    String tag;

    @Override
    int run(AdminClient client) {
        String target = tag == null ? name : name + "@" + tag;
        client.call(PeerRequest.withPayload(PeerConstants.VDI_DELETE, 0, 0, 0, 0, VdiCalls.nameArg(target))).release();
        ctx().out.println((tag == null ? "deleted VDI '" : "deleted snapshot '") + target + "'");
        return 0;
    }
}
