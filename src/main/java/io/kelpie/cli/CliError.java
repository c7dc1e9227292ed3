package io.kelpie.cli;

/** A failure the CLI reports as one line on stderr, exiting with {@link #exitCode()}. */
final class CliError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The node could not be reached, or the connection broke. */
    static final int UNREACHABLE = 3;
    /** Local standard input or output was unusable. */
    static final int BAD_INPUT = 4;

    private final int exitCode;

    CliError(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
