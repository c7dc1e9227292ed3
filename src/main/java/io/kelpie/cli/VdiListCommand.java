package io.kelpie.cli;

import io.kelpie.common.Sizes;
import io.kelpie.peer.AdminMessages.VdiInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

@Command(name = "list", mixinStandardHelpOptions = true,
        description = {"List the VDIs and snapshots: kind ('s' a snapshot, 'c' a clone, blank a VDI), name,",
                "snapshot id (a VDI shows the id its next snapshot gets), size, space used (own objects) and",
                "shared (objects read from a parent snapshot), creation time, VDI id, copies and snapshot tag."})
final class VdiListCommand extends AdminCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "List only this VDI.")
    String name;

    @Option(names = "--json", description = "Print a JSON array instead of a table (sizes in bytes).")
    boolean json;

    @Override
    int run(AdminClient client) {
        List<VdiInfo> vdis = name != null ? List.of(VdiCalls.lookup(client, name)) : VdiCalls.list(client);
        if (json) {
            Json j = new Json().beginArray();
            for (VdiInfo v : vdis) {
                j.beginObject().field("name", v.name()).field("tag", v.tag()).field("snapshot", v.snapshot())
                        .field("snap_id", v.snapId()).field("vdi_id", Text.vid(v.vdiId())).field("size", v.size())
                        .field("used", used(v)).field("shared", v.sharedObjects() * v.objectSize())
                        .field("copies", v.copies()).field("created", Text.isoTime(v.createTime()))
                        .field("parent_vdi_id", v.parentVdiId() == 0 ? "" : Text.vid(v.parentVdiId()))
                        .field("clone", isClone(v, vdis))
                        .endObject();
            }
            ctx().out.println(j.endArray());
            return 0;
        }
        String fmt = "%-3s %-20s %4s %10s %10s %10s %-19s %6s %6s %s%n";
        ctx().out.printf(fmt, "", "Name", "Id", "Size", "Used", "Shared", "Creation time", "VDI id", "Copies", "Tag");
        for (VdiInfo v : vdis) {
            ctx().out.printf(fmt, v.snapshot() ? "s" : isClone(v, vdis) ? "c" : "", v.name(), v.snapId(), Sizes.format(v.size()),
                    Sizes.format(used(v)), Sizes.format(v.sharedObjects() * v.objectSize()), Text.time(v.createTime()),
                    Text.vid(v.vdiId()), v.copies(), v.tag());
        }
        return 0;
    }

    /** A VDI made from another VDI's snapshot: up its own snapshots, the first parent of another name. */
    private static boolean isClone(VdiInfo v, List<VdiInfo> all) {
        if (v.snapshot()) {
            return false;
        }
        java.util.Map<Integer, VdiInfo> byVid = new java.util.HashMap<>();
        all.forEach(i -> byVid.put(i.vdiId(), i));
        VdiInfo p = byVid.get(v.parentVdiId());
        for (int hops = 0; p != null && p.name().equals(v.name()) && hops < all.size(); hops++) {
            p = byVid.get(p.parentVdiId());
        }
        return p != null && !p.name().equals(v.name());
    }

    private static long used(VdiInfo v) {
        return Math.max(0, v.usedObjects()) * v.objectSize();
    }
}
