package io.kelpie.frontend;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.nbd.NbdClient;
import io.kelpie.nbd.NbdConstants;
import io.kelpie.nbd.NbdExportRefused;
import io.kelpie.vdi.Inode;
import io.kelpie.vdi.VdiAcl;
import io.kelpie.vdi.VdiManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-VDI access over NBD ({@code kelpie vdi acl}): which clients a VDI's {@link VdiAcl} lets
 * see and open it. Read from this node's catalogue on every lookup, so a change applies to the
 * next handshake on each node as soon as that node has applied it (connections already open
 * keep going).
 */
final class VdiAccess {
    private static final Logger log = LoggerFactory.getLogger(VdiAccess.class);

    private VdiAccess() {
    }

    /**
     * The list that governs {@code in}. A snapshot follows its VDI's, so that one change covers the
     * VDI and every snapshot of it (a snapshot's own copy is the VDI's list when it was taken); only
     * once the VDI is gone does the snapshot's own copy count.
     */
    static VdiAcl aclOf(VdiManager m, Inode in) {
        String own = VdiExports.exportName(in);
        if (in.isSnapshot()) {
            try {
                return VdiAcl.decode(m.localAttr(in.name(), VdiAcl.ATTRIBUTE));
            } catch (KelpieException e) {
                if (e.status() != Status.NO_VDI) {
                    throw e;
                }
            }
        }
        return VdiAcl.decode(m.localAttr(own, VdiAcl.ATTRIBUTE));
    }

    static boolean permits(VdiManager m, Inode in, NbdClient client) {
        return aclOf(m, in).refusal(client.address(), client.commonName()) == null;
    }

    /** Refuses (NBD_REP_ERR_POLICY, the VDI named) a client that {@code in}'s list keeps out. */
    static void check(VdiManager m, Inode in, NbdClient client) {
        String why = aclOf(m, in).refusal(client.address(), client.commonName());
        if (why == null) {
            return;
        }
        String who = (client.address() != null ? client.address().getHostAddress() : String.valueOf(client.remote()))
                + (client.commonName() != null ? " (cn " + client.commonName() + ")" : client.tls() ? " (TLS, no client certificate)" : "");
        String vdi = VdiExports.exportName(in);
        log.info("NBD client {}: refused VDI '{}': {}", who, vdi, why);
        throw new NbdExportRefused(NbdConstants.NBD_REP_ERR_POLICY, "VDI '" + vdi + "' is not open to " + who + ": " + why);
    }
}
