package io.kelpie.cli;

import io.kelpie.peer.AdminMessages.VdiInfo;
import picocli.CommandLine.Command;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

@Command(name = "tree", mixinStandardHelpOptions = true,
        description = {"Draw the snapshot and clone tree: each snapshot above what was made from it (the next",
                "snapshot or the VDI itself, and its clones). '(you are here)' marks the writable VDIs; a VDI",
                "whose parent snapshot was deleted starts a tree of its own."})
final class VdiTreeCommand extends AdminCommand {
    @Override
    int run(AdminClient client) {
        List<VdiInfo> all = VdiCalls.list(client);
        Map<Integer, VdiInfo> byVid = new HashMap<>();
        Map<Integer, List<VdiInfo>> children = new HashMap<>();
        for (VdiInfo v : all) {
            byVid.put(v.vdiId(), v);
        }
        List<VdiInfo> roots = new ArrayList<>();
        for (VdiInfo v : all) {
            if (v.parentVdiId() != 0 && byVid.containsKey(v.parentVdiId())) {
                children.computeIfAbsent(v.parentVdiId(), k -> new ArrayList<>()).add(v);
            } else {
                roots.add(v);
            }
        }
        for (VdiInfo r : roots) {
            ctx().out.println(label(r, r.parentVdiId() != 0));
            draw(r, "", children);
        }
        return 0;
    }

    private void draw(VdiInfo v, String indent, Map<Integer, List<VdiInfo>> children) {
        List<VdiInfo> kids = children.getOrDefault(v.vdiId(), List.of());
        for (int i = 0; i < kids.size(); i++) {
            boolean last = i == kids.size() - 1;
            ctx().out.println(indent + (last ? "`-- " : "|-- ") + label(kids.get(i), false));
            draw(kids.get(i), indent + (last ? "    " : "|   "), children);
        }
    }

    private static String label(VdiInfo v, boolean orphan) {
        String s = v.snapshot() ? v.name() + "@" + (v.tag().isEmpty() ? String.valueOf(v.snapId()) : v.tag())
                + " [" + v.snapId() + ", " + Text.time(v.snapCtime()) + "]" : v.name() + " (you are here)";
        return orphan ? s + " (from a deleted snapshot)" : s;
    }
}
