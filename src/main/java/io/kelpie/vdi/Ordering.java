package io.kelpie.vdi;

/**
 * How catalogue changes are ordered: a lone manager applies them at once; in a cluster they go
 * through the cluster's total order and every node's manager applies them in that order.
 */
@FunctionalInterface
public interface Ordering {
    /** Applies {@code op} everywhere; returns what {@link VdiManager#apply} returned on this node. */
    Object order(CatalogueOp op);
}
