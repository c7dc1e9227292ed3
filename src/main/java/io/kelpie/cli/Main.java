package io.kelpie.cli;

import picocli.CommandLine;

/** {@code java -jar kelpie.jar ...}: the one entry point of the node and of the admin CLI. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code; tests call this in-process. */
    public static int run(String... args) {
        return KelpieCommand.commandLine().execute(args);
    }
}
