package io.kelpie.cli;

import io.kelpie.peer.AdminMessages;
import io.kelpie.peer.AdminMessages.ObjectInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

@Command(name = "object", mixinStandardHelpOptions = true,
        description = {"Show which data objects of a VDI exist and where: object id, the VDI that owns it",
                "(itself, or a parent snapshot it shares the object with) and the nodes holding it."})
final class VdiObjectCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI (NAME@TAG for a snapshot).")
    String name;

    @Option(names = {"-i", "--index"}, paramLabel = "INDEX",
            description = "Show only the object at this index (byte offset / object size); default: every allocated object.")
    Long index;

    @Option(names = "--json", description = "Print a JSON array instead of text.")
    boolean json;

    @Override
    int run(AdminClient client) {
        if (index != null && index < 0) {
            throw new CliError(2, "object index must not be negative");
        }
        PeerRequest req = PeerRequest.withPayload(PeerConstants.VDI_OBJECT, index == null ? PeerConstants.FLAG_ALL : 0,
                0, 0, index == null ? 0 : index, VdiCalls.nameArg(name));
        List<ObjectInfo> objects = new ArrayList<>();
        ByteBuf result = client.call(req);
        try {
            WireReader r = new WireReader(result);
            int n = AdminMessages.count(r);
            for (int i = 0; i < n; i++) {
                objects.add(ObjectInfo.read(r));
            }
        } finally {
            result.release();
        }
        if (json) {
            Json j = new Json().beginArray();
            for (ObjectInfo o : objects) {
                j.beginObject().field("index", o.index()).field("oid", Text.oid(o.oid()))
                        .field("owner_vdi_id", Text.vid(o.ownerVdiId())).field("owner", o.ownerName()).key("nodes").beginArray();
                o.nodes().forEach(j::value);
                j.endArray().endObject();
            }
            ctx().out.println(j.endArray());
            return 0;
        }
        if (objects.isEmpty()) {
            ctx().out.println(index != null ? "object " + index + " of VDI '" + name + "' is not allocated (reads as zeros)"
                    : "VDI '" + name + "' has no allocated objects");
            return 0;
        }
        String fmt = "%8s  %-16s  %-20s  %s%n";
        ctx().out.printf(fmt, "Index", "Object id", "Owner", "Nodes");
        for (ObjectInfo o : objects) {
            String owner = o.ownerName().isEmpty() ? Text.vid(o.ownerVdiId()) : o.ownerName() + " (" + Text.vid(o.ownerVdiId()) + ")";
            ctx().out.printf(fmt, o.index(), Text.oid(o.oid()), owner, String.join(", ", o.nodes()));
        }
        return 0;
    }
}
