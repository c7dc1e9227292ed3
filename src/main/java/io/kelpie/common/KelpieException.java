package io.kelpie.common;

/** A failure with a {@link Status} that travels unchanged from the store to the CLI or NBD client. */
public class KelpieException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Status status;

    public KelpieException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public KelpieException(Status status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public Status status() {
        return status;
    }

    /** The status of any throwable: a KelpieException's own, or IO_ERROR. Unwraps completion wrappers. */
    public static Status statusOf(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof KelpieException ke) {
                return ke.status;
            }
        }
        return Status.IO_ERROR;
    }

    /** The message an operator should see for any throwable. */
    public static String messageOf(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof KelpieException ke) {
                return ke.getMessage();
            }
        }
        Throwable root = t;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
