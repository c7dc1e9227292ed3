package io.kelpie.cli;

import io.kelpie.common.Sizes;
import io.kelpie.peer.AdminMessages.ClusterInfo;
import io.kelpie.peer.AdminMessages.EpochInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the cluster's status, id, creation time, copies, and epoch with its history.")
final class ClusterInfoCommand extends AdminCommand {
    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    int run(AdminClient client) {
        ByteBuf result = client.call(PeerConstants.CLUSTER_INFO);
        ClusterInfo info;
        try {
            info = ClusterInfo.read(new WireReader(result));
        } finally {
            result.release();
        }
        PrintStream out = ctx().out;
        if (json) {
            String status = !info.formatted() ? "waiting for format" : info.refusal().isEmpty() ? "running" : info.refusal();
            Json j = new Json().beginObject().field("status", status).field("serving", info.refusal().isEmpty())
                    .field("formatted", info.formatted());
            if (info.formatted()) {
                j.field("cluster_id", info.clusterId()).field("created", Text.isoTime(info.createTime()))
                        .field("copies", info.copies()).field("min_copies", info.minCopies()).field("object_size", 1L << info.blockSizeShift());
            }
            j.field("epoch", info.epoch()).key("history").beginArray();
            for (EpochInfo e : info.history()) {
                j.beginObject().field("epoch", e.epoch()).field("time", Text.isoTime(e.time())).key("nodes").beginArray();
                e.members().forEach(j::value);
                j.endArray().endObject();
            }
            out.println(j.endArray().endObject());
            return 0;
        }
        if (!info.formatted()) {
            out.println("Cluster status: waiting for format (run 'kelpie cluster format')");
            return 0;
        }
        out.println("Cluster status: " + (info.refusal().isEmpty() ? "running" : "not serving: " + info.refusal()));
        out.println("Cluster id: " + info.clusterId());
        out.println("Cluster created at " + Text.time(info.createTime()));
        out.println("Copies: " + info.copies() + " (writes need " + info.minCopies() + ")");
        out.println("Object size: " + Sizes.format(1L << info.blockSizeShift()));
        out.println("Epoch: " + info.epoch());
        out.println();
        out.println("Epoch Time                Nodes");
        for (EpochInfo e : info.history()) {
            out.printf("%5d %s [%s]%n", e.epoch(), Text.time(e.time()), String.join(", ", e.members()));
        }
        return 0;
    }
}
