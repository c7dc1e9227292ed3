package io.kelpie.peer.ops;

import io.kelpie.peer.PeerConstants;

import java.util.Map;

/** Which {@link PeerOp} serves which opcode. */
public final class PeerOps {
    private PeerOps() {
    }

    public static Map<Integer, PeerOp> all() {
        return Map.ofEntries(
                // client (admin) opcodes
                Map.entry(PeerConstants.FORMAT, ClusterOps.FORMAT),
                Map.entry(PeerConstants.CLUSTER_INFO, ClusterOps.INFO),
                Map.entry(PeerConstants.CLUSTER_SHUTDOWN, ClusterOps.SHUTDOWN),
                Map.entry(PeerConstants.CLUSTER_RECOVER, ClusterOps.RECOVER),
                Map.entry(PeerConstants.NODE_LIST, ClusterOps.NODES),
                Map.entry(PeerConstants.NODE_INFO, ClusterOps.NODES),
                Map.entry(PeerConstants.NODE_RECOVERY, RecoveryOps.NODE_RECOVERY),
                Map.entry(PeerConstants.VDI_CREATE, VdiOps.CREATE),
                Map.entry(PeerConstants.VDI_LIST, VdiOps.LIST),
                Map.entry(PeerConstants.VDI_DELETE, VdiOps.DELETE),
                Map.entry(PeerConstants.VDI_RESIZE, VdiOps.RESIZE),
                Map.entry(PeerConstants.VDI_OBJECT, VdiOps.OBJECT),
                Map.entry(PeerConstants.VDI_READ, VdiIoOps.READ),
                Map.entry(PeerConstants.VDI_WRITE, VdiIoOps.WRITE),
                Map.entry(PeerConstants.VDI_CHECK, CheckOps.VDI),
                Map.entry(PeerConstants.VDI_SNAPSHOT, SnapshotOps.SNAPSHOT),
                Map.entry(PeerConstants.VDI_CLONE, SnapshotOps.CLONE),
                Map.entry(PeerConstants.VDI_ROLLBACK, SnapshotOps.ROLLBACK),
                Map.entry(PeerConstants.CLUSTER_CHECK, CheckOps.CLUSTER),
                // peer (object) opcodes
                Map.entry(PeerConstants.READ_OBJ, ObjectOps.epochChecked(ObjectOps.recovered(ObjectOps.READ))),
                Map.entry(PeerConstants.WRITE_OBJ, ObjectOps.epochChecked(ObjectOps.recovered(ObjectOps.WRITE))),
                Map.entry(PeerConstants.CREATE_AND_WRITE_OBJ, ObjectOps.epochChecked(ObjectOps.claimed(ObjectOps.CREATE_AND_WRITE))),
                Map.entry(PeerConstants.ZERO_OBJ, ObjectOps.epochChecked(ObjectOps.recovered(ObjectOps.ZERO))),
                Map.entry(PeerConstants.REMOVE_OBJ, ObjectOps.epochChecked(ObjectOps.claimed(ObjectOps.REMOVE))),
                Map.entry(PeerConstants.FLUSH, ObjectOps.FLUSH),
                Map.entry(PeerConstants.LIST_OBJ, ObjectOps.LIST),
                Map.entry(PeerConstants.EXISTS_OBJ, ObjectOps.EXISTS),
                Map.entry(PeerConstants.STAT_OBJ, ObjectMetaOps.STAT),
                Map.entry(PeerConstants.FETCH_OBJ, ObjectMetaOps.FETCH),
                Map.entry(PeerConstants.LIST_VERSIONS, ObjectMetaOps.LIST_VERSIONS),
                Map.entry(PeerConstants.REPAIR_OBJ, RecoveryOps.REPAIR));
    }
}
