package io.kelpie.cli;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

@Command(name = "kelpie",
        mixinStandardHelpOptions = true,
        versionProvider = KelpieCommand.Version.class,
        description = {
                "Kelpie: a distributed block store. Nodes keep virtual disk images (VDIs) as replicated",
                "4 MiB objects and export them as block devices over NBD.",
                "",
                "Start a node with 'kelpie node run --dir DIR', format it with 'kelpie cluster format',",
                "then create VDIs with 'kelpie vdi create NAME SIZE'."},
        footer = {"",
                "Admin commands talk to a node's peer port (-a HOST:PORT, default 127.0.0.1:7000).",
                "Sizes take K, M, G, T suffixes (powers of 1024). Listings take --json.",
                "",
                "Exit status: 0 success; 1 unexpected error; 2 invalid command line; 3 node unreachable;",
                "4 unusable local input; 10+N the node refused the request with status N:",
                "  12 invalid argument, 13 no such VDI, 14 VDI exists, 15 no space (past the end),",
                "  17 cluster not formatted, 18 already formatted."},
        subcommands = {ClusterCommand.class, NodeCommand.class, VdiCommand.class, CommandLine.HelpCommand.class})
public final class KelpieCommand {
    /** Exit codes for node failures: this plus the Status code. */
    static final int STATUS_EXIT_BASE = 10;

    final CliContext context;

    KelpieCommand(CliContext context) {
        this.context = context;
    }

    static CommandLine commandLine(CliContext ctx) {
        CommandLine cl = new CommandLine(new KelpieCommand(ctx));
        cl.setUsageHelpWidth(100);
        // picocli writes the bash/zsh completion script from the commands themselves
        CommandLine completion = new CommandLine(new picocli.AutoComplete.GenerateCompletion());
        completion.getCommandSpec().usageMessage().description(
                "Prints a bash/zsh completion script: kelpie completion > /etc/bash_completion.d/kelpie");
        completion.getCommandSpec().usageMessage().hidden(false);
        cl.addSubcommand("completion", completion);
        cl.setOut(new PrintWriter(ctx.out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(ctx.err, true, StandardCharsets.UTF_8));
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("kelpie: " + oneLine(ex));
            commandLine.getErr().flush();
            return exitCode(ex);
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            String where = c.getCommandSpec().qualifiedName();
            c.getErr().println("kelpie: " + firstLine(ex.getMessage()) + " (see '" + where + " --help')");
            c.getErr().flush();
            return c.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cl;
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof CliError ce) {
            return ce.exitCode();
        }
        for (Throwable c = ex; c != null; c = c.getCause()) {
            if (c instanceof KelpieException ke) {
                return ke.status() == Status.OK ? 1 : STATUS_EXIT_BASE + ke.status().code();
            }
        }
        return 1;
    }

    private static String oneLine(Throwable ex) {
        if (ex instanceof CliError) {
            return firstLine(ex.getMessage());
        }
        return firstLine(KelpieException.messageOf(ex));
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unknown error";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl).strip();
    }

    /** The version and the commit the jar was built from, from its manifest (see pom.xml). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws java.io.IOException {
            String version = "0.1.0-SNAPSHOT";
            String commit = "unknown";
            boolean dirty = false;
            var manifests = KelpieCommand.class.getClassLoader().getResources("META-INF/MANIFEST.MF");
            while (manifests.hasMoreElements()) {
                try (var in = manifests.nextElement().openStream()) {
                    var attrs = new java.util.jar.Manifest(in).getMainAttributes();
                    if (!Main.class.getName().equals(attrs.getValue("Main-Class"))) {
                        continue;
                    }
                    version = java.util.Objects.requireNonNullElse(attrs.getValue("Implementation-Version"), version);
                    String c = attrs.getValue("Kelpie-Commit");
                    if (c != null && !c.isBlank() && !c.startsWith("${")) {
                        commit = c;
                    }
                    dirty = "true".equals(attrs.getValue("Kelpie-Dirty"));
                }
            }
            return new String[] {
                    "kelpie " + version + " (commit " + commit + (dirty ? ", with uncommitted changes" : "") + ")",
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
