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
        description = "List the nodes of the cluster: id, peer address, zone, vnodes (share of the ring) and space.")
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
                        .field("zone", m.zone()).field("vnodes", m.vnodes()).field("used", m.used())
                        .field("free", m.free()).endObject();
            }
            ctx().out.println(j.endArray());
            return 0;
        }
        String fmt = "%3s  %-10s %-22s %-12s %6s %10s %10s%n";
        ctx().out.printf(fmt, "Idx", "Id", "Host:Port", "Zone", "Vnodes", "Used", "Free");
        for (int i = 0; i < nodes.size(); i++) {
            MemberInfo m = nodes.get(i);
            ctx().out.printf(fmt, i, m.id(), m.address(), m.zone(), m.vnodes(), space(m.used()), space(m.free()));
        }
        return 0;
    }

    private static String space(long bytes) {
        return bytes < 0 ? "?" : io.kelpie.common.Sizes.format(bytes);
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
