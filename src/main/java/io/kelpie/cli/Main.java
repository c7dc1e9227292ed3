package io.kelpie.cli;

import java.io.InputStream;
import java.io.OutputStream;

/** {@code java -jar kelpie.jar ...}: the one entry point of the node and of the admin CLI. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // Netty samples 1 in 128 buffers for leak tracking by default, recording a stack trace for
        // each: a few percent of the NBD hot path. Tests and operators can still ask for it.
        if (System.getProperty("io.netty.leakDetection.level") == null
                && System.getProperty("io.netty.leakDetectionLevel") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        // Without it netty allocates its pool's chunks with ByteBuffer.allocateDirect, which zeroes
        // them: 4 MiB memset each time the pool makes a chunk (the manifest opens java.nio for it).
        if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
            System.setProperty("io.netty.tryReflectionSetAccessible", "true");
        }
        // With a common pool of parallelism 1 (any machine of two cores) CompletableFuture runs
        // every async task and every delayedExecutor task on a new thread of its own.
        if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
            int cores = Runtime.getRuntime().availableProcessors();
            System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", Integer.toString(Math.max(2, cores - 1)));
        }
        System.exit(run(args));
    }

    /** Runs a command line with the process's streams and returns its exit code. */
    public static int run(String... args) {
        // binary data (vdi read) goes straight to fd 1, so that a closed pipe is an error, not ignored
        CliContext ctx = new CliContext(System.in, System.out, System.err, true,
                new java.io.FileOutputStream(java.io.FileDescriptor.out));
        try {
            return KelpieCommand.commandLine(ctx).execute(args);
        } finally {
            ctx.out.flush();
        }
    }

    /** Runs a command line with the given streams (tests call this in-process). */
    public static int run(InputStream in, OutputStream out, OutputStream err, String... args) {
        CliContext ctx = new CliContext(in, out, err, false, out);
        try {
            return KelpieCommand.commandLine(ctx).execute(args);
        } finally {
            ctx.out.flush();
            ctx.err.flush();
        }
    }
}
