package io.kelpie.cli;

import io.kelpie.common.ClusterSecret;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Base of every command that talks to a node: the {@code -a/--address} option and the connection. */
abstract class AdminCommand implements Callable<Integer> {
    @Option(names = {"-a", "--address"}, paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7000",
            description = "Peer/admin address of a node of the cluster (default: ${DEFAULT-VALUE}).")
    String address;

    @Option(names = "--cluster-secret", paramLabel = "FILE",
            description = "The cluster's secret file, when its nodes run with one (default: $" + ClusterSecret.ENV + ").")
    Path secretFile;

    @Spec
    CommandSpec spec;

    CliContext ctx() {
        return ((KelpieCommand) spec.root().userObject()).context;
    }

    @Override
    public final Integer call() throws Exception {
        try (AdminClient client = AdminClient.connect(address, ClusterSecret.fromOptionOrEnv(secretFile))) {
            int rc = run(client);
            ctx().out.flush();
            return rc;
        }
    }

    abstract int run(AdminClient client) throws Exception;
}
