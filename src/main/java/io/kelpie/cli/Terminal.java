package io.kelpie.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a standard stream of the process is a terminal, and a one-line progress bar for one.
 * Only the process's own streams can be terminals (a test's never are).
 */
final class Terminal {
    private final PrintStream err;
    private final boolean on;
    private final String what;
    private final String unit;
    private long lastDraw;

    private Terminal(PrintStream err, boolean on, String what, String unit) {
        this.err = err;
        this.on = on;
        this.what = what;
        this.unit = unit;
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

    /** A progress bar on stderr if stderr is a terminal; otherwise it draws nothing. */
    static Terminal progress(CliContext ctx, String what, String unit) {
        return new Terminal(ctx.err, isTty(ctx, 2), what, unit);
    }

    void show(long done, long total, long bytes) {
        long now = System.nanoTime();
        if (!on || (done < total && now - lastDraw < 100_000_000L)) {
            return; // at most ten redraws a second
        }
        lastDraw = now;
        int pct = total == 0 ? 100 : (int) (100 * done / total);
        int bar = pct * 30 / 100;
        err.print("\r" + what + " [" + "#".repeat(bar) + " ".repeat(30 - bar) + "] " + pct + "% " + done + "/" + total
                + " " + unit + ", " + (bytes >> 20) + " MiB");
        err.flush();
    }

    void finish(String summary) {
        if (on) {
            err.print("\r\033[K" + summary + "\n");
            err.flush();
        }
    }
}
