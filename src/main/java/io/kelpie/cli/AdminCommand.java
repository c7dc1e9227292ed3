package io.kelpie.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** Base of every command that talks to a node: the {@code -a/--address} option and the connection. */
abstract class AdminCommand implements Callable<Integer> {
    @Option(names = {"-a", "--address"}, paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7000",
            description = "Peer/admin address of a node of the cluster (default: ${DEFAULT-VALUE}).")
    String address;

    @Spec
    CommandSpec spec;

    CliContext ctx() {
        return ((KelpieCommand) spec.root().userObject()).context;
    }

    @Override
    public final Integer call() throws Exception {
        try (AdminClient client = AdminClient.connect(address)) {
            int rc = run(client);
            ctx().out.flush();
            return rc;
        }
    }

    abstract int run(AdminClient client) throws Exception;
}
