package io.kelpie.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "kelpie",
        mixinStandardHelpOptions = true,
        versionProvider = KelpieCommand.Version.class,
        description = {
                "Kelpie: a distributed block store. Nodes keep virtual disk images (VDIs) as replicated",
                "4 MiB objects and export them as block devices over NBD.",
                "",
                "Start a node with 'kelpie node run --dir DIR', format it with 'kelpie cluster format',",
                "then create VDIs with 'kelpie vdi create NAME SIZE'."},
        subcommands = {NodeCommand.class, CommandLine.HelpCommand.class})
public final class KelpieCommand {

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new KelpieCommand());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("kelpie: " + io.kelpie.common.KelpieException.messageOf(ex));
            return 1;
        });
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = KelpieCommand.class.getPackage().getImplementationVersion();
            return new String[] {"kelpie " + (v != null ? v : "0.1.0-SNAPSHOT")};
        }
    }
}
