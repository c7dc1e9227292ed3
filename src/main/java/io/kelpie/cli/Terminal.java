package io.kelpie.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a standard stream of the process is a terminal. Only the process's own streams can be
 * terminals (a test's never are). Progress bars are {@link Progress}.
 */
final class Terminal {
    private Terminal() {
    }

    static boolean isTty(CliContext ctx, int fd) {
        if (!ctx.processStdin) {
            return false;
        }
        try {
            String t = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return t.startsWith("/dev/pts/") || t.startsWith("/dev/tty") || t.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
