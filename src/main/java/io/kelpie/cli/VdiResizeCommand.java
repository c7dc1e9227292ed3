package io.kelpie.cli;

import io.kelpie.common.Sizes;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "resize", mixinStandardHelpOptions = true,
        description = {"Grow a VDI to a new size. Shrinking is refused: it would destroy data.",
                "Clients connected over NBD see the new size when they reconnect."})
final class VdiResizeCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to grow.")
    String name;

    @Parameters(index = "1", paramLabel = "SIZE", converter = SizeConverter.class,
            description = "New size in bytes, with an optional K, M, G or T suffix; at least the current size, at most 4T.")
    long size;

    @Override
    int run(AdminClient client) {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).i64(size);
        VdiInfo vdi = VdiCalls.decodeOne(client.call(PeerRequest.withPayload(PeerConstants.VDI_RESIZE, 0, 0, 0, 0, args)));
        ctx().out.println("resized VDI '" + vdi.name() + "' to " + Sizes.format(vdi.size()) + " (" + vdi.size() + " bytes)");
        return 0;
    }
}
