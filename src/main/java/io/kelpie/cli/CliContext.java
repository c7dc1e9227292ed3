package io.kelpie.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** The standard streams of one CLI run (the process's, or a test's). */
final class CliContext {
    final InputStream in;
    /** Standard output for binary data: unbuffered, and it reports a closed pipe as an IOException. */
    final OutputStream rawOut;
    final PrintStream out;
    final PrintStream err;
    /** Whether {@code in} is the process's standard input (then /proc/self/fd/0 describes it). */
    final boolean processStdin;

    CliContext(InputStream in, OutputStream out, OutputStream err, boolean processStdin, OutputStream rawOut) {
        this.in = in;
        this.rawOut = rawOut;
        this.out = out instanceof PrintStream ps ? ps : new PrintStream(out, false, StandardCharsets.UTF_8);
        this.err = err instanceof PrintStream ps ? ps : new PrintStream(err, true, StandardCharsets.UTF_8);
        this.processStdin = processStdin;
    }
}
