package io.kelpie.cli;

import io.kelpie.peer.AdminMessages;
import io.kelpie.peer.AdminMessages.MemberInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List the nodes of the cluster: id, peer address and zone.")
final class NodeListCommand extends AdminCommand {
    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    int run(AdminClient client) {
        List<MemberInfo> nodes = fetch(client, PeerConstants.NODE_LIST);
        if (json) {
            Json j = new Json().beginArray();
            for (int i = 0; i < nodes.size(); i++) {
                MemberInfo m = nodes.get(i);
                j.beginObject().field("index", i).field("id", m.id()).field("address", m.address())
                        .field("zone", m.zone()).endObject();
            }
            ctx().out.println(j.endArray());
            return 0;
        }
        ctx().out.printf("%3s  %-24s %s%n", "Id", "Host:Port", "Zone");
        for (int i = 0; i < nodes.size(); i++) {
            MemberInfo m = nodes.get(i);
            ctx().out.printf("%3d  %-24s %s%n", i, m.address(), m.zone());
        }
        return 0;
    }

    static List<MemberInfo> fetch(AdminClient client, int opcode) {
        ByteBuf result = client.call(opcode);
        try {
            WireReader r = new WireReader(result);
            int n = AdminMessages.count(r);
            List<MemberInfo> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(MemberInfo.read(r));
            }
            return out;
        } finally {
            result.release();
        }
    }
}
