package io.kelpie.cli;

import io.kelpie.common.Sizes;
import io.kelpie.peer.AdminMessages.MemberInfo;
import io.kelpie.peer.PeerConstants;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show each node's storage: space used and free, and the number of objects it holds.")
final class NodeInfoCommand extends AdminCommand {
    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    int run(AdminClient client) {
        List<MemberInfo> nodes = NodeListCommand.fetch(client, PeerConstants.NODE_INFO);
        long used = 0;
        long free = 0;
        long objects = 0;
        for (MemberInfo m : nodes) {
            used += m.used();
            free += m.free();
            objects += m.objects();
        }
        if (json) {
            Json j = new Json().beginObject().key("nodes").beginArray();
            for (int i = 0; i < nodes.size(); i++) {
                MemberInfo m = nodes.get(i);
                j.beginObject().field("index", i).field("address", m.address()).field("used", m.used())
                        .field("free", m.free()).field("objects", m.objects()).endObject();
            }
            j.endArray().field("used", used).field("free", free).field("objects", objects);
            ctx().out.println(j.endObject());
            return 0;
        }
        String fmt = "%3s  %-24s %10s %10s %10s %5s%n";
        ctx().out.printf(fmt, "Id", "Host:Port", "Used", "Free", "Objects", "Use%");
        for (int i = 0; i < nodes.size(); i++) {
            MemberInfo m = nodes.get(i);
            ctx().out.printf(fmt, i, m.address(), Sizes.format(m.used()), Sizes.format(m.free()), m.objects(),
                    percent(m.used(), m.free()));
        }
        ctx().out.printf(fmt, "", "Total", Sizes.format(used), Sizes.format(free), objects, percent(used, free));
        return 0;
    }

    private static String percent(long used, long free) {
        long total = used + free;
        return total == 0 ? "-" : (used * 100 / total) + "%";
    }
}
