package io.kelpie.cli;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code qemu-img} from PATH, for images that are not raw: what format and virtual size a file
 * has, and conversion between a format and a sparse raw file. qemu-img cannot write to a pipe (it
 * seeks and resizes its output), so the raw side is always a regular file.
 */
final class QemuImg {
    private static final Pattern FORMAT = Pattern.compile("\"format\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern SIZE = Pattern.compile("\"virtual-size\"\\s*:\\s*(\\d+)");
    private static final Pattern PERCENT = Pattern.compile("\\((\\d+(?:\\.\\d+)?)/100%\\)");

    /** What {@code qemu-img info} says of an image. */
    record Info(String format, long virtualSize) {
    }

    private final Path exe;

    private QemuImg(Path exe) {
        this.exe = exe;
    }

    /** qemu-img on PATH, or null. */
    static QemuImg find() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "qemu-img");
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return new QemuImg(p);
            }
        }
        return null;
    }

    /** The error for a FILE that needs qemu-img when there is none. */
    static CliError missing(Path file, String why) {
        return new CliError(CliError.BAD_INPUT, file + " " + why + ", which needs qemu-img, and there is no qemu-img on PATH"
                + " (Debian: apt-get install qemu-utils); --format raw takes the file as it is");
    }

    /** {@code qemu-img info}; with {@code format} null, qemu-img probes it. */
    Info info(Path file, String format) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(exe.toString(), "info", "--output=json"));
        if (format != null) {
            cmd.addAll(List.of("-f", format));
        }
        cmd.add(file.toString());
        String json = run(cmd, null);
        Matcher f = FORMAT.matcher(json);
        Matcher s = SIZE.matcher(json);
        if (!f.find() || !s.find()) {
            throw new CliError(CliError.BAD_INPUT, "qemu-img info " + file + " said neither format nor size: " + oneLine(json));
        }
        return new Info(f.group(1), Long.parseLong(s.group(1)));
    }

    /**
     * {@code qemu-img convert} from {@code src} in {@code srcFormat} to {@code dst} in
     * {@code dstFormat} (sparse: zeros are not written), showing its percentage on {@code progress}.
     */
    void convert(Path src, String srcFormat, Path dst, String dstFormat, Progress progress, long total) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(exe.toString(), "convert", "-f", srcFormat, "-O", dstFormat));
        if (progress.shown()) {
            cmd.add("-p");
        }
        cmd.add(src.toString());
        cmd.add(dst.toString());
        run(cmd, pct -> progress.stepTo((long) (total * pct / 100)));
    }

    private interface Percent {
        void at(double pct);
    }

    /** Runs qemu-img and returns its output; its last line is the error if it fails. */
    private static String run(List<String> cmd, Percent percent) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        // killed (SIGTERM), the command takes qemu-img with it rather than leave it writing a deleted file
        Thread reaper = new Thread(p::destroy, "kelpie-qemu-img-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        try {
            return await(p, cmd, percent);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: nothing to remove
            }
        }
    }

    private static String await(Process p, List<String> cmd, Percent percent) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        try (InputStream in = new java.io.BufferedInputStream(p.getInputStream())) {
            // -p redraws "    (12.34/100%)" with carriage returns: each piece is one reading
            for (int c = in.read(); c >= 0; c = in.read()) {
                all.write(c);
                if (c == '\r' || c == '\n') {
                    seen(line, percent);
                } else {
                    line.write(c);
                }
            }
        }
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new CliError(1, "interrupted while qemu-img ran");
        }
        String out = all.toString(StandardCharsets.UTF_8);
        if (rc != 0) {
            throw new CliError(CliError.BAD_INPUT, "qemu-img " + cmd.get(1) + " failed: " + oneLine(out));
        }
        return out;
    }

    private static void seen(ByteArrayOutputStream line, Percent percent) {
        if (percent != null) {
            Matcher m = PERCENT.matcher(line.toString(StandardCharsets.UTF_8));
            if (m.find()) {
                percent.at(Double.parseDouble(m.group(1)));
            }
        }
        line.reset();
    }

    private static String oneLine(String s) {
        String t = s.strip();
        int nl = t.lastIndexOf('\n');
        return nl < 0 ? t : t.substring(nl + 1).strip();
    }
}
