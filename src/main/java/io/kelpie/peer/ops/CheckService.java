package io.kelpie.peer.ops;

import io.kelpie.check.Checker;
import io.kelpie.vdi.VdiManager;

/** What the check opcodes need of the node: the VDIs to check and a checker over the cluster. */
public interface CheckService {
    /** The VDIs; fails with NOT_FORMATTED before {@code cluster format}. */
    VdiManager vdis();

    /** A checker comparing replicas across the current members, {@code parallel} objects at a time. */
    Checker checker(int parallel);
}
