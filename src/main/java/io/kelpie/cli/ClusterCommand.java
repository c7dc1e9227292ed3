package io.kelpie.cli;

import picocli.CommandLine.Command;

@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Format the cluster, show its state, check its replicas, stop it, recover it.",
        subcommands = {ClusterFormatCommand.class, ClusterInfoCommand.class, ClusterCheckCommand.class,
                ClusterShutdownCommand.class, ClusterRecoverCommand.class})
final class ClusterCommand extends GroupCommand {
}
