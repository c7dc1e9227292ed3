package io.kelpie.cli;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.kelpie.vdi.VdiAcl;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

@Command(name = "acl", mixinStandardHelpOptions = true,
        description = {"Who may open a VDI over NBD. Entries: cn:NAME (the CN of a client certificate, verified with",
                "node run --tls-verify-peer) and addr:ADDRESS or addr:NETWORK/PREFIX (IPv4 or IPv6; 'addr:' may be",
                "left out). A client is refused when a deny entry matches it, or when the VDI has allow entries and",
                "none matches; an empty list is open to all. A refused client gets NBD_REP_ERR_POLICY naming the",
                "VDI, and the VDI is not in its export list. Snapshots (NAME@TAG) follow their VDI's list.",
                "The list is the VDI attribute 'kelpie.acl' (one 'allow ENTRY' or 'deny ENTRY' a line), decided in",
                "the cluster's order; it applies to new connections (open ones keep going).",
                "Examples: kelpie vdi acl vm1 allow cn:alice addr:10.0.0.0/8; kelpie vdi acl vm1 deny 10.0.0.9;",
                "kelpie vdi acl vm1 remove cn:alice; kelpie vdi acl vm1 list; kelpie vdi acl vm1 clear"})
final class VdiAclCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI.")
    String name;

    @Parameters(index = "1", paramLabel = "ACTION", description = "allow, deny, remove, list or clear.")
    String action;

    @Parameters(index = "2..*", paramLabel = "ENTRY", description = "cn:NAME or addr:ADDRESS[/PREFIX] (allow, deny, remove).")
    List<String> entries = new ArrayList<>();

    @Override
    int run(AdminClient client) {
        boolean edits = !action.equals("list");
        if (name.contains("@") && edits) {
            throw new KelpieException(Status.INVALID, "a snapshot follows its VDI's access list: change it with 'kelpie vdi acl "
                    + name.substring(0, name.indexOf('@')) + " " + action + " ...'");
        }
        String vdi = name.contains("@") ? name.substring(0, name.indexOf('@')) : name;
        boolean takesEntries = action.equals("allow") || action.equals("deny") || action.equals("remove");
        if (!takesEntries && !action.equals("list") && !action.equals("clear")) {
            throw new KelpieException(Status.INVALID, "unknown action '" + action + "': allow, deny, remove, list or clear");
        }
        if (takesEntries == entries.isEmpty()) {
            throw new KelpieException(Status.INVALID, takesEntries ? action + " needs at least one ENTRY" : action + " takes no ENTRY");
        }
        VdiAcl acl = VdiAcl.decode(read(client, vdi));
        switch (action) {
            case "list" -> {
                acl.lines().forEach(ctx().out::println);
                return 0;
            }
            case "clear" -> acl = VdiAcl.OPEN;
            case "remove" -> {
                for (String e : entries) {
                    if (!acl.contains(e)) {
                        throw new KelpieException(Status.NO_OBJECT, "VDI '" + vdi + "' has no access list entry " + VdiAcl.normalize(e));
                    }
                    acl = acl.without(e);
                }
            }
            default -> {
                for (String e : entries) {
                    acl = acl.with(e, action.equals("allow"));
                }
            }
        }
        write(client, vdi, acl);
        return 0;
    }

    /** The attribute's value, null when the VDI has none (an open VDI). */
    private static byte[] read(AdminClient client, String vdi) {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(vdi).string(VdiAcl.ATTRIBUTE);
        ByteBuf v;
        try {
            v = client.call(PeerRequest.withPayload(PeerConstants.VDI_GETATTR, 0, 0, 0, 0, args));
        } catch (KelpieException e) {
            if (e.status() == Status.NO_OBJECT) {
                return null;
            }
            throw e;
        }
        try {
            byte[] b = new byte[v.readableBytes()];
            v.readBytes(b);
            return b;
        } finally {
            v.release();
        }
    }

    /** Sets the attribute, or deletes it for an empty list (open to all, as if never set). */
    private static void write(AdminClient client, String vdi, VdiAcl acl) {
        boolean delete = acl.isEmpty();
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(vdi).string(VdiAcl.ATTRIBUTE).i32(delete ? 2 : 0);
        if (!delete) {
            args.writeBytes(acl.encode());
        }
        try {
            client.call(PeerRequest.withPayload(PeerConstants.VDI_SETATTR, 0, 0, 0, 0, args)).release();
        } catch (KelpieException e) {
            if (!(delete && e.status() == Status.NO_OBJECT)) { // clearing a list that was never set
                throw e;
            }
        }
    }
}
