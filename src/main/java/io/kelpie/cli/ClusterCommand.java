package io.kelpie.cli;

import picocli.CommandLine.Command;

@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Format the cluster and show its state.",
        subcommands = {ClusterFormatCommand.class, ClusterInfoCommand.class, ClusterCheckCommand.class})
final class ClusterCommand extends GroupCommand {
}
