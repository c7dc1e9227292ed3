package io.kelpie.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands: run bare, it names what is missing. */
abstract class GroupCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: one of "
                + String.join(", ", spec.subcommands().keySet().stream().filter(s -> !s.equals("help")).toList()));
    }
}
