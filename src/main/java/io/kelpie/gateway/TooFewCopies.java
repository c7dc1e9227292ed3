package io.kelpie.gateway;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

/**
 * A change that fewer than min-copies replicas stored. {@code retryable}: some replicas were
 * unreachable or on another epoch, so the next epoch (without the dead node) may do better.
 */
final class TooFewCopies extends KelpieException {
    private static final long serialVersionUID = 1L;
    private final boolean retryable;

    TooFewCopies(String message, boolean retryable) {
        this(Status.TOO_FEW_COPIES, message, retryable);
    }

    /** With {@code NO_SPACE}: replicas were full, and the client hears ENOSPC, as from a local disk. */
    TooFewCopies(Status status, String message, boolean retryable) {
        super(status, message);
        this.retryable = retryable;
    }

    boolean retryable() {
        return retryable;
    }
}
