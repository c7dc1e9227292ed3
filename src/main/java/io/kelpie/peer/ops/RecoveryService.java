package io.kelpie.peer.ops;

import io.kelpie.recovery.RecoveryStatus.OfNode;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What the recovery opcodes need of the node. Both fail with SHUTDOWN while recovery is not running. */
public interface RecoveryService {
    /** Every member's background recovery (only this node's with {@code localOnly}); blocks. */
    List<OfNode> statusOfMembers(boolean localOnly);

    /** Makes this node's copy current from the best other holder; true if it copied one. */
    CompletableFuture<Boolean> repair(long oid);

    /** ... from {@code source} (HOST:PORT), even at the same version. */
    CompletableFuture<Boolean> repair(long oid, String source);
}
