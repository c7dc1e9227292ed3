package io.kelpie.cli;

import picocli.CommandLine.Command;

@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Format the cluster, show its state, stop it, recover it.",
        subcommands = {ClusterFormatCommand.class, ClusterInfoCommand.class, ClusterShutdownCommand.class,
                ClusterRecoverCommand.class})
final class ClusterCommand extends GroupCommand {
}
