package io.kelpie.peer.ops;

import io.kelpie.peer.PeerConstants;

import java.util.Map;

/** Which {@link PeerOp} serves which opcode, each bound to the service of its group. */
public final class PeerOps {
    private PeerOps() {
    }

    /** The node's side of every group of ops. */
    public record Services(ObjectService objects, VdiService vdis, ClusterService cluster, CheckService check,
                           RecoveryService recovery) {
    }

    public static Map<Integer, PeerOp.Bound> all(Services s) {
        ObjectService o = s.objects();
        return Map.ofEntries(
                // client (admin) opcodes
                Map.entry(PeerConstants.FORMAT, ClusterOps.FORMAT.bind(s.cluster())),
                Map.entry(PeerConstants.CLUSTER_INFO, ClusterOps.INFO.bind(s.cluster())),
                Map.entry(PeerConstants.CLUSTER_SHUTDOWN, ClusterOps.SHUTDOWN.bind(s.cluster())),
                Map.entry(PeerConstants.CLUSTER_RECOVER, ClusterOps.RECOVER.bind(s.cluster())),
                Map.entry(PeerConstants.NODE_LIST, ClusterOps.NODES.bind(s.cluster())),
                Map.entry(PeerConstants.NODE_INFO, ClusterOps.NODES.bind(s.cluster())),
                Map.entry(PeerConstants.NODE_RECOVERY, RecoveryOps.NODE_RECOVERY.bind(s.recovery())),
                Map.entry(PeerConstants.VDI_CREATE, VdiOps.CREATE.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_LIST, VdiOps.LIST.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_DELETE, VdiOps.DELETE.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_RESIZE, VdiOps.RESIZE.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_OBJECT, VdiOps.OBJECT.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_READ, VdiIoOps.READ.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_WRITE, VdiIoOps.WRITE.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_TRIM, VdiIoOps.TRIM.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_HOLD, new VdiHolds().op().bind(s.vdis())),
                Map.entry(PeerConstants.VDI_CHECK, CheckOps.VDI.bind(s.check())),
                Map.entry(PeerConstants.VDI_SNAPSHOT, SnapshotOps.SNAPSHOT.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_CLONE, SnapshotOps.CLONE.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_ROLLBACK, SnapshotOps.ROLLBACK.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_SETATTR, AttrOps.SET.bind(s.vdis())),
                Map.entry(PeerConstants.VDI_GETATTR, AttrOps.GET.bind(s.vdis())),
                Map.entry(PeerConstants.CLUSTER_CHECK, CheckOps.CLUSTER.bind(s.check())),
                // peer (object) opcodes
                Map.entry(PeerConstants.READ_OBJ, ObjectOps.epochChecked(ObjectOps.recovered(ObjectOps.READ)).bind(o)),
                Map.entry(PeerConstants.WRITE_OBJ, ObjectOps.epochChecked(ObjectOps.recovered(ObjectOps.WRITE)).bind(o)),
                Map.entry(PeerConstants.CREATE_AND_WRITE_OBJ, ObjectOps.epochChecked(ObjectOps.claimed(ObjectOps.CREATE_AND_WRITE)).bind(o)),
                Map.entry(PeerConstants.ZERO_OBJ, ObjectOps.epochChecked(ObjectOps.recovered(ObjectOps.ZERO)).bind(o)),
                Map.entry(PeerConstants.REMOVE_OBJ, ObjectOps.epochChecked(ObjectOps.claimed(ObjectOps.REMOVE)).bind(o)),
                Map.entry(PeerConstants.FLUSH, ObjectOps.FLUSH.bind(o)),
                Map.entry(PeerConstants.LIST_OBJ, ObjectOps.LIST.bind(o)),
                Map.entry(PeerConstants.EXISTS_OBJ, ObjectOps.EXISTS.bind(o)),
                Map.entry(PeerConstants.STAT_OBJ, ObjectMetaOps.STAT.bind(o)),
                Map.entry(PeerConstants.FETCH_OBJ, ObjectMetaOps.FETCH.bind(o)),
                Map.entry(PeerConstants.LIST_VERSIONS, ObjectMetaOps.LIST_VERSIONS.bind(o)),
                Map.entry(PeerConstants.REPAIR_OBJ, RecoveryOps.REPAIR.bind(s.recovery())));
    }
}
