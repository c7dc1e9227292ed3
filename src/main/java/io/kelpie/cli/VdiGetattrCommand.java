package io.kelpie.cli;

import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;

@Command(name = "getattr", mixinStandardHelpOptions = true,
        description = {"Print attribute KEY of a VDI (or of a snapshot, NAME@TAG) to standard output, as it",
                "was set (raw bytes, no newline added). An unknown key is an error."})
final class VdiGetattrCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI, or NAME@TAG for a snapshot.")
    String name;

    @Parameters(index = "1", paramLabel = "KEY", description = "The attribute.")
    String key;

    @Override
    int run(AdminClient client) throws IOException {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).string(key);
        ByteBuf v = client.call(PeerRequest.withPayload(PeerConstants.VDI_GETATTR, 0, 0, 0, 0, args));
        try {
            byte[] bytes = new byte[v.readableBytes()];
            v.readBytes(bytes);
            ctx().rawOut.write(bytes);
            ctx().rawOut.flush();
        } finally {
            v.release();
        }
        return 0;
    }
}
