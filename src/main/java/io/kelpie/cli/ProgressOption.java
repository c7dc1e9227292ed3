package io.kelpie.cli;

import picocli.CommandLine.Option;

/** {@code -q/--quiet} of every command with a progress bar (a bar is only ever drawn on a terminal). */
final class ProgressOption {
    @Option(names = {"-q", "--quiet"}, description = "No progress bar (there is none when stderr is not a terminal).")
    boolean quiet;

    Progress bytes(CliContext ctx, String task, long total) {
        return Progress.bytes(ctx, quiet, task, total);
    }

    Progress count(CliContext ctx, String task, long total, String unit) {
        return Progress.count(ctx, quiet, task, total, unit);
    }
}
