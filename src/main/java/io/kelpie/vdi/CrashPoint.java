package io.kelpie.vdi;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TEST ONLY: a place where a node can be made to stop right after a catalogue change was ordered
 * and before this node did the I/O that follows it (writing a new VDI's inode object, reclaiming a
 * deleted one's objects), the crash windows that unsealed VDIs and the reclaim resume close.
 * Off by default: {@link #NONE} unless the system property {@value #HALT_PROPERTY} names an op
 * kind, in which case the JVM halts there (for native kill tests).
 */
@FunctionalInterface
public interface CrashPoint {
    /** {@code -Dkelpie.test.haltAfterOrdering=SNAPSHOT} (or CREATE, CLONE, ROLLBACK, DELETE): halt the node there. */
    String HALT_PROPERTY = "kelpie.test.haltAfterOrdering";

    CrashPoint NONE = (kind, inode) -> { };

    /** Called after {@code kind} was ordered for {@code inode} (the new VDI, or the deleted one). */
    void afterOrdered(CatalogueOp.Kind kind, Inode inode);

    /** {@link #NONE}, or a halt after the kind named by {@value #HALT_PROPERTY}. */
    static CrashPoint fromSystemProperty() {
        String kind = System.getProperty(HALT_PROPERTY, "");
        if (kind.isEmpty()) {
            return NONE;
        }
        Logger log = LoggerFactory.getLogger(CrashPoint.class);
        log.warn("TEST ONLY: this node halts after ordering {} ({} is set)", kind, HALT_PROPERTY);
        return (k, in) -> {
            if (k.name().equalsIgnoreCase(kind)) {
                log.warn("TEST ONLY: halting after ordering {} of VDI {}", k, in.displayName());
                Runtime.getRuntime().halt(137);
            }
        };
    }
}
