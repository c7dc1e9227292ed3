package io.kelpie.cli;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Standard input as a channel of known length, so that {@code vdi write} can refuse input that
 * does not fit before writing anything. A regular file is used in place; a pipe is first copied to
 * a temporary file (at most one byte more than could fit, enough to tell it does not).
 */
final class StdinSource implements AutoCloseable {
    private final FileChannel channel;
    private final long length;
    private final Path spool;

    private StdinSource(FileChannel channel, long length, Path spool) {
        this.channel = channel;
        this.length = length;
        this.spool = spool;
    }

    /**
     * @param wanted bytes requested (LENGTH), or null for everything
     * @param room   bytes that fit
     */
    static StdinSource open(CliContext ctx, Long wanted, long room) throws IOException {
        long limit = wanted != null ? wanted : room + 1;
        if (ctx.processStdin && Files.isRegularFile(Path.of("/proc/self/fd/0"))) {
            @SuppressWarnings("resource") // closing it would close fd 0, which the process owns
            FileChannel ch = new FileInputStream(FileDescriptor.in).getChannel();
            long available = ch.size() - ch.position();
            return new StdinSource(ch, check(wanted, Math.min(available, limit)), null);
        }
        Path tmp = Files.createTempFile("kelpie-stdin", ".spool");
        try {
            long copied;
            try (OutputStream out = Files.newOutputStream(tmp)) {
                copied = copy(ctx.in, out, limit);
            }
            FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.DELETE_ON_CLOSE);
            return new StdinSource(ch, check(wanted, copied), tmp);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static long check(Long wanted, long got) {
        if (wanted != null && got < wanted) {
            throw new KelpieException(Status.INVALID, "standard input has only " + got + " of the " + wanted
                    + " bytes requested; nothing was written");
        }
        return got;
    }

    private static long copy(InputStream in, OutputStream out, long limit) throws IOException {
        byte[] buf = new byte[1 << 20];
        long total = 0;
        while (total < limit) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, limit - total));
            if (n < 0) {
                break;
            }
            out.write(buf, 0, n);
            total += n;
        }
        return total;
    }

    FileChannel channel() {
        return channel;
    }

    long length() {
        return length;
    }

    @Override
    public void close() throws IOException {
        if (spool != null) {
            channel.close();
            Files.deleteIfExists(spool);
        }
    }
}
