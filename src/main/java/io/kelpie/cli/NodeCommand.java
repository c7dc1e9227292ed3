package io.kelpie.cli;

import picocli.CommandLine.Command;

@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Run a node, or list and inspect the nodes of the cluster and their recovery.",
        subcommands = {NodeRunCommand.class, NodeListCommand.class, NodeInfoCommand.class, NodeRecoveryCommand.class})
final class NodeCommand extends GroupCommand {
}
