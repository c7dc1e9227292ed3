package io.kelpie.peer.ops;

import io.kelpie.peer.PeerTransport;
import io.kelpie.vdi.VdiManager;

import java.util.List;

/** What the VDI opcodes need of the node: its VDIs (which propose catalogue changes) and placement. */
public interface VdiService {
    /** The VDIs; fails with NOT_FORMATTED before {@code cluster format}. */
    VdiManager vdis();

    /** HOST:PORT of the nodes holding an object in the current epoch. */
    List<String> holders(long oid, int copies);

    /** This node as a VDI lock holder names it: {@code ID@HOST:PORT}. */
    String self();

    /** To send a request on to the node that has a VDI open. */
    PeerTransport peers();
}
