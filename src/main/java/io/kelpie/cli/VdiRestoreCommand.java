package io.kelpie.cli;

import io.kelpie.backup.BackupFormat.Header;
import io.kelpie.backup.BackupFormat.Summary;
import io.kelpie.backup.BackupReader;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages.VdiInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Apply a backup stream from standard input to VDI NAME, then take snapshot NAME@TAG.",
                "An incremental stream (backup -F FROM) needs NAME at FROM: its parent snapshot has FROM's",
                "tag and it has not been written since (e.g. after 'vdi rollback NAME -s FROM'); a full",
                "stream needs a new empty VDI of the stream's size. The whole stream is checked first",
                "(checksums, end marker, base) and a VDI in use on another node is refused: changing nothing.",
                "Should a write, the flush or the snapshot fail part-way, the VDI is put back as it was",
                "(rolled back to FROM, or emptied); if even that fails, the error says how to fix it.",
                "Example: kelpie vdi create vm 10G && kelpie vdi restore vm -s s1 < full.kbk &&",
                "         kelpie vdi restore vm -s s2 < inc.kbk"})
final class VdiRestoreCommand extends AdminCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI to restore into.")
    String name;

    @Option(names = {"-s", "--snapshot"}, paramLabel = "TAG", required = true,
            description = "Tag of the snapshot to take once the stream is applied (normally the stream's TO).")
    String tag;

    @Mixin
    ProgressOption progressOption;

    @Override
    int run(AdminClient client) throws IOException {
        if (Terminal.isTty(ctx(), 0)) {
            throw new CliError(CliError.BAD_INPUT, "standard input is a terminal; redirect a backup stream: < FILE");
        }
        // spooled whole, so that a bad or truncated stream is refused before one byte is written
        Path spool = Files.createTempFile("kelpie-restore", ".spool");
        VdiInfo snap;
        try {
            try {
                Files.copy(ctx().in, spool, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new CliError(CliError.BAD_INPUT, "cannot read standard input: " + e.getMessage());
            }
            try (InputStream in = new BufferedInputStream(Files.newInputStream(spool), 1 << 20)) {
                Summary s = BackupReader.validate(in);
                checkTarget(client, s.header());
                RestoreApply restore = new RestoreApply(client, name, tag, s.header());
                restore.hold();
                try (Progress progress = progressOption.bytes(ctx(), "restore", s.bytes())) {
                    try {
                        // again, now that nobody else can write the VDI: it may have changed before the hold
                        checkTarget(client, s.header());
                        snap = restore.run(spool, s, progress);
                    } finally {
                        restore.release();
                    }
                    progress.finish("restore: " + s.records() + " records, " + s.bytes() + " bytes written");
                }
                String warning = RestoreSource.record(client, name + "@" + tag, s.header());
                if (warning != null) {
                    ctx().err.println(warning);
                }
            }
        } finally {
            Files.deleteIfExists(spool);
        }
        ctx().out.println("restored VDI '" + name + "' and took snapshot '" + name + "@" + tag + "' (snapshot id "
                + snap.snapId() + ")");
        return 0;
    }

    /** Refuses, changing nothing, unless VDI NAME is where the stream starts (see doc/backup-format.md). */
    private void checkTarget(AdminClient client, Header h) {
        VdiInfo cur = null;
        VdiInfo parent = null;
        List<VdiInfo> all = VdiCalls.list(client);
        for (VdiInfo v : all) {
            if (v.name().equals(name) && !v.snapshot()) {
                cur = v;
            }
        }
        if (cur == null) {
            throw new KelpieException(Status.NO_VDI, "there is no VDI '" + name + "' to restore into; create it ("
                    + h.size() + " bytes) or roll it back first; nothing was changed");
        }
        for (VdiInfo v : all) {
            if (v.name().equals(name) && v.snapshot()) {
                if (v.tag().equals(tag) || String.valueOf(v.snapId()).equals(tag)) {
                    throw new KelpieException(Status.VDI_EXISTS, "VDI '" + name + "' already has a snapshot '" + tag
                            + "'; nothing was changed");
                }
                if (v.vdiId() == cur.parentVdiId()) {
                    parent = v;
                }
            }
        }
        if (cur.size() != h.size() || cur.objectSize() != h.objectSize()) {
            throw new KelpieException(Status.INVALID, "the stream is of a VDI of " + h.size() + " bytes, VDI '" + name
                    + "' has " + cur.size() + "; nothing was changed");
        }
        if (h.full()) {
            if (cur.usedObjects() + cur.sharedObjects() != 0) {
                throw new KelpieException(Status.INVALID, "a full backup restores onto an empty VDI; '" + name + "' has "
                        + (cur.usedObjects() + cur.sharedObjects()) + " allocated objects; nothing was changed");
            }
            return;
        }
        String base = h.from().label();
        if (parent == null || !snapLabel(parent).equals(base)) {
            throw new KelpieException(Status.INVALID, "the stream is based on snapshot '" + h.name() + "@" + base
                    + "', but VDI '" + name + "' is not at it (" + (parent == null ? "it has no snapshot parent"
                    : "it goes on from '" + name + "@" + snapLabel(parent) + "'") + "); nothing was changed");
        }
        RestoreSource.check(client, name + "@" + snapLabel(parent), h);
        if (cur.usedObjects() != 0) {
            throw new KelpieException(Status.INVALID, "VDI '" + name + "' has been written since snapshot '" + base + "' ("
                    + cur.usedObjects() + " objects of its own); roll it back first (kelpie vdi rollback " + name + " -s "
                    + base + "); nothing was changed");
        }
    }

    private static String snapLabel(VdiInfo v) {
        return v.tag().isEmpty() ? String.valueOf(v.snapId()) : v.tag();
    }
}
