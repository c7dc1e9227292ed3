package io.kelpie.gateway;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

/**
 * A change that fewer than min-copies replicas stored. {@code retryable}: some replicas were
 * unreachable or on another epoch, so the next epoch (without the dead node) may do better, or
 * ({@code awaitsRepair}) only replicas whose copy is behind were missing, and their repair is
 * under way.
 */
final class TooFewCopies extends KelpieException {
    private static final long serialVersionUID = 1L;
    private final boolean retryable;
    private final boolean awaitsRepair;

    TooFewCopies(String message, boolean retryable) {
        this(Status.TOO_FEW_COPIES, message, retryable, false);
    }

    /** With {@code NO_SPACE}: replicas were full, and the client hears ENOSPC, as from a local disk. */
    TooFewCopies(Status status, String message, boolean retryable, boolean awaitsRepair) {
        super(status, message);
        this.retryable = retryable;
        this.awaitsRepair = awaitsRepair;
    }

    /** Whether a repair, not a new epoch, is what the retry waits for. */
    boolean awaitsRepair() {
        return awaitsRepair;
    }

    boolean retryable() {
        return retryable;
    }
}
