package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "delete", mixinStandardHelpOptions = true,
        description = "Delete a VDI and all its data. Refused while NBD clients have it open.")
final class VdiDeleteCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to delete (NAME@TAG for a snapshot).")
    String name;

    @Override
    int run(AdminClient client) {
        client.call(PeerRequest.withPayload(PeerConstants.VDI_DELETE, 0, 0, 0, 0, VdiCalls.nameArg(name))).release();
        ctx().out.println("deleted VDI '" + name + "'");
        return 0;
    }
}
