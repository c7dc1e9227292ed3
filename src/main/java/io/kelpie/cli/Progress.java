package io.kelpie.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.text.DecimalFormat;
import java.time.temporal.ChronoUnit;

/**
 * The progress bar of a long command (me.tongfei:progressbar: done/total, rate, elapsed and ETA),
 * drawn on stderr only when stderr is a terminal and {@code --quiet} was not given; otherwise every
 * call is a no-op, so the commands call it unconditionally.
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final PrintStream err;
    private boolean closed;

    private Progress(ProgressBar bar, PrintStream err) {
        this.bar = bar;
        this.err = err;
    }

    /** A bar counting bytes, shown in MiB. */
    static Progress bytes(CliContext ctx, boolean quiet, String task, long total) {
        return of(ctx, quiet, task, total, " MiB", 1 << 20);
    }

    /** A bar counting things (objects, records). */
    static Progress count(CliContext ctx, boolean quiet, String task, long total, String unit) {
        return of(ctx, quiet, task, total, " " + unit, 1);
    }

    private static Progress of(CliContext ctx, boolean quiet, String task, long total, String unit, long unitSize) {
        if (quiet || !Terminal.isTty(ctx, 2)) {
            return new Progress(null, ctx.err);
        }
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(total)
                .setUnit(unit, unitSize)
                .showSpeed(new DecimalFormat("0.0"))
                .setSpeedUnit(ChronoUnit.SECONDS)
                // ASCII: the JVM's stderr encoding follows the locale, which may not be UTF-8
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200)
                // the context's stream, not fd 2 behind its back, so its output stays in order
                .setConsumer(new ConsoleProgressBarConsumer(ctx.err))
                .build();
        return new Progress(bar, ctx.err);
    }

    boolean shown() {
        return bar != null;
    }

    void stepTo(long done) {
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    void stepBy(long n) {
        if (bar != null) {
            bar.stepBy(n);
        }
    }

    /** Ends the bar (at its total) and, if one was shown, puts {@code summary} on the line after it. */
    void finish(String summary) {
        if (bar != null && !closed) {
            bar.stepTo(bar.getMax());
            close();
            err.println(summary);
            err.flush();
        }
    }

    /** Ends the bar where it is (a failure): the error that follows goes on a line of its own. */
    @Override
    public void close() {
        if (bar != null && !closed) {
            closed = true;
            bar.close();
        }
    }
}
