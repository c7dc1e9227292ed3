package io.kelpie.cli;

import io.kelpie.common.Sizes;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.kelpie.recovery.RecoveryStatus;
import io.kelpie.recovery.RecoveryStatus.OfNode;
import io.kelpie.recovery.RecoveryStatus.State;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

@Command(name = "recovery", mixinStandardHelpOptions = true,
        description = {"Show each node's background recovery: state (idle, running, done), the epoch, objects and",
                "bytes recovered of the total, rate and time left. With --watch, follow it until every node",
                "is done with the same epoch (a progress bar on a terminal, one line per change otherwise)."})
final class NodeRecoveryCommand extends AdminCommand {
    private static final int BAR = 30;

    @Option(names = "--json", description = "Print JSON instead of text (with --watch: once, when done).")
    boolean json;

    @Option(names = "--watch", description = "Redraw until every node is done; exit 0 then.")
    boolean watch;

    @Option(names = "--interval", defaultValue = "0.5", paramLabel = "SECONDS",
            description = "How often --watch asks (default: ${DEFAULT-VALUE}).")
    double interval;

    @Override
    int run(AdminClient client) throws InterruptedException {
        PrintStream out = ctx().out;
        List<OfNode> nodes = fetch(client);
        if (watch) {
            boolean tty = System.console() != null && !json;
            int drawn = 0;
            String last = "";
            while (!allDone(nodes)) {
                if (tty) {
                    if (drawn > 0) {
                        out.print("\033[" + drawn + "A\033[J"); // back over the previous drawing
                    }
                    drawn = table(out, nodes, true);
                } else if (!json) {
                    String line = summary(nodes);
                    if (!line.equals(last)) {
                        out.println(line);
                        last = line;
                    }
                }
                out.flush();
                Thread.sleep(Math.max(50, (long) (interval * 1000)));
                nodes = fetch(client);
            }
            if (tty && drawn > 0) {
                out.print("\033[" + drawn + "A\033[J");
            }
        }
        if (json) {
            out.println(json(nodes));
        } else {
            table(out, nodes, false);
        }
        return 0;
    }

    static List<OfNode> fetch(AdminClient client) {
        ByteBuf result = client.call(PeerRequest.of(PeerConstants.NODE_RECOVERY, 0, 0, 0, 0, 0));
        try {
            return RecoveryStatus.readAll(new WireReader(result));
        } finally {
            result.release();
        }
    }

    /** Every node answered and is done with one epoch (or none has anything to do: all idle). */
    static boolean allDone(List<OfNode> nodes) {
        if (nodes.isEmpty() || nodes.stream().anyMatch(n -> n.status() == null)) {
            return false;
        }
        if (nodes.stream().allMatch(n -> n.status().state() == State.IDLE)) {
            return true;
        }
        long epoch = nodes.get(0).status().epoch();
        return nodes.stream().allMatch(n -> n.status().doneWith(epoch));
    }

    private static int table(PrintStream out, List<OfNode> nodes, boolean bars) {
        String fmt = "%3s  %-22s %-8s %6s %15s %23s %11s %6s%s%n";
        out.printf(fmt, "Idx", "Host:Port", "State", "Epoch", "Objects", "Bytes", "Rate", "ETA", bars ? "  Progress" : "");
        for (int i = 0; i < nodes.size(); i++) {
            OfNode n = nodes.get(i);
            RecoveryStatus s = n.status();
            if (s == null) {
                out.printf(fmt, i, n.address(), "?", "-", "-", "-", "-", "-", bars ? "  (no answer)" : "");
                continue;
            }
            String bar = "";
            if (bars) {
                double f = s.bytesTotal() > 0 ? (double) s.bytesDone() / s.bytesTotal() : s.state() == State.DONE ? 1 : 0;
                int full = (int) Math.round(f * BAR);
                bar = "  [" + "#".repeat(full) + ".".repeat(BAR - full) + "] " + (int) Math.round(f * 100) + "%";
            }
            out.printf(fmt, i, n.address(), s.state().label(), s.epoch(), s.objectsDone() + "/" + s.objectsTotal(),
                    Sizes.format(s.bytesDone()) + "/" + Sizes.format(s.bytesTotal()), Sizes.format(s.rate()) + "/s",
                    eta(s), bar);
        }
        return nodes.size() + 1;
    }

    private static String summary(List<OfNode> nodes) {
        long done = nodes.stream().filter(n -> n.status() != null && n.status().state() == State.DONE).count();
        long od = 0;
        long ot = 0;
        long bd = 0;
        long bt = 0;
        long rate = 0;
        long eta = 0;
        long epoch = 0;
        for (OfNode n : nodes) {
            RecoveryStatus s = n.status();
            if (s != null) {
                od += s.objectsDone();
                ot += s.objectsTotal();
                bd += s.bytesDone();
                bt += s.bytesTotal();
                rate += s.rate();
                eta = Math.max(eta, s.etaSeconds());
                epoch = Math.max(epoch, s.epoch());
            }
        }
        return String.format(Locale.ROOT, "epoch %d: %d/%d nodes done, %d/%d objects, %s/%s, %s/s, ETA %s", epoch, done,
                nodes.size(), od, ot, Sizes.format(bd), Sizes.format(bt), Sizes.format(rate), eta < 0 ? "?" : eta + " s");
    }

    private static String eta(RecoveryStatus s) {
        if (s.state() != State.RUNNING) {
            return "-";
        }
        return s.etaSeconds() < 0 ? "?" : s.etaSeconds() + "s";
    }

    private static String json(List<OfNode> nodes) {
        Json j = new Json().beginObject().key("nodes").beginArray();
        for (int i = 0; i < nodes.size(); i++) {
            OfNode n = nodes.get(i);
            RecoveryStatus s = n.status();
            j.beginObject().field("index", i).field("id", n.id()).field("address", n.address());
            if (s == null) {
                j.field("state", "unknown");
            } else {
                j.field("state", s.state().label()).field("epoch", s.epoch()).field("objects_done", s.objectsDone())
                        .field("objects_total", s.objectsTotal()).field("bytes_done", s.bytesDone())
                        .field("bytes_total", s.bytesTotal()).field("rate", s.rate()).field("eta", s.etaSeconds())
                        .field("unavailable", s.unavailable()).field("stale_objects", s.staleObjects())
                        .field("elapsed_ms", s.elapsedMillis());
            }
            j.endObject();
        }
        return j.endArray().field("done", allDone(nodes)).endObject().toString();
    }
}
