package io.kelpie.cli;

import io.kelpie.backup.BackupFormat.Header;
import io.kelpie.backup.BackupFormat.Snap;
import io.kelpie.backup.BackupWriter;
import io.kelpie.backup.BlockDiff;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages;
import io.kelpie.peer.AdminMessages.ObjectInfo;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Write a backup stream of snapshot NAME@TO to standard output: with -F FROM only the",
                "4 KiB blocks that differ from snapshot NAME@FROM (in the objects the two snapshots do not",
                "share), without it everything allocated in TO. Checksummed per record and as a whole",
                "(format: doc/backup-format.md). Restore it with 'kelpie vdi restore'.",
                "Example: kelpie vdi backup vm -s s1 > full.kbk; kelpie vdi backup vm -F s1 -s s2 > inc.kbk"})
final class VdiBackupCommand extends AdminCommand {
    /** Objects read ahead (each one or two 4 MiB reads). */
    private static final int WINDOW = 4;

    @Parameters(index = "0", paramLabel = "NAME", description = "The VDI whose snapshots to back up.")
    String name;

    @Option(names = {"-F", "--from"}, paramLabel = "FROM", description = "The base snapshot (tag or id): back up only what changed since.")
    String fromTag;

    @Option(names = {"-s", "--snapshot"}, paramLabel = "TO", required = true, description = "The snapshot to back up (tag or id).")
    String toTag;

    @Mixin
    ProgressOption progressOption;

    private record Pending(long index, CompletableFuture<PeerResponse> from, CompletableFuture<PeerResponse> to) {
    }

    @Override
    int run(AdminClient client) throws IOException {
        if (Terminal.isTty(ctx(), 1)) {
            throw new CliError(CliError.BAD_INPUT, "refusing to write a binary backup stream to a terminal; redirect it: > FILE");
        }
        VdiInfo to = snapshot(client, toTag);
        VdiInfo from = fromTag == null ? null : snapshot(client, fromTag);
        if (from != null && (from.size() != to.size() || from.objectSize() != to.objectSize())) {
            throw new KelpieException(Status.INVALID, "snapshots '" + name + "@" + fromTag + "' and '" + name + "@" + toTag
                    + "' differ in size; an incremental backup needs equal sizes");
        }
        Map<Long, Integer> toObjects = objects(client, name + "@" + toTag);
        Map<Long, Integer> fromObjects = from == null ? Map.of() : objects(client, name + "@" + fromTag);
        TreeSet<Long> changed = new TreeSet<>();
        toObjects.keySet().forEach(changed::add);
        fromObjects.keySet().forEach(changed::add);
        changed.removeIf(i -> Objects.equals(toObjects.get(i), fromObjects.get(i))); // shared: the same bytes
        Header h = new Header(name, to.size(), (int) to.objectSize(), from == null ? null : snap(from), snap(to));
        try (Progress progress = progressOption.count(ctx(), "backup", changed.size(), "objects")) {
            BackupWriter w = new BackupWriter(new BufferedOutputStream(ctx().rawOut, 1 << 20), h);
            ArrayDeque<Pending> window = new ArrayDeque<>();
            long done = 0;
            for (long index : changed) {
                if (window.size() >= WINDOW) {
                    emit(w, window.poll(), to);
                    progress.stepTo(++done);
                }
                window.add(new Pending(index, fromObjects.containsKey(index) ? read(client, fromTag, index, to) : null,
                        read(client, toTag, index, to)));
            }
            while (!window.isEmpty()) {
                emit(w, window.poll(), to);
                progress.stepTo(++done);
            }
            w.finish();
            progress.finish("backup of '" + name + "@" + toTag + "': " + changed.size() + " objects, " + w.records()
                    + " records, " + w.bytes() + " bytes");
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("Broken pipe")) {
                return VdiReadCommand.BROKEN_PIPE;
            }
            throw new CliError(CliError.BAD_INPUT, "cannot write to standard output: " + e.getMessage());
        }
        return 0;
    }

    private void emit(BackupWriter w, Pending p, VdiInfo to) throws IOException {
        byte[] old = p.from == null ? null : bytes(p.from);
        byte[] now = bytes(p.to);
        long base = p.index * to.objectSize();
        for (BlockDiff.Run r : BlockDiff.runs(old, now)) {
            w.record(base + r.start(), now, r.start(), r.length());
        }
    }

    private CompletableFuture<PeerResponse> read(AdminClient client, String tag, long index, VdiInfo to) {
        long at = index * to.objectSize();
        int len = (int) Math.min(to.objectSize(), to.size() - at);
        return client.send(VdiCalls.read(name + "@" + tag, at, len));
    }

    private static byte[] bytes(CompletableFuture<PeerResponse> f) {
        ByteBuf b = AdminClient.await(f);
        try {
            byte[] out = new byte[b.readableBytes()];
            b.readBytes(out);
            return out;
        } finally {
            b.release();
        }
    }

    private VdiInfo snapshot(AdminClient client, String tag) {
        VdiInfo v = VdiCalls.lookup(client, name + "@" + tag);
        if (!v.snapshot()) {
            throw new KelpieException(Status.INVALID, "'" + name + "@" + tag + "' is not a snapshot");
        }
        return v;
    }

    private static Snap snap(VdiInfo v) {
        return new Snap(v.vdiId(), v.snapId(), v.tag(), v.snapCtime());
    }

    /** Object index -> the VDI id that owns it, for every allocated object of {@code vdi}. */
    static Map<Long, Integer> objects(AdminClient client, String vdi) {
        ByteBuf result = client.call(PeerRequest.withPayload(PeerConstants.VDI_OBJECT, PeerConstants.FLAG_ALL, 0, 0, 0,
                VdiCalls.nameArg(vdi)));
        try {
            WireReader r = new WireReader(result);
            int n = AdminMessages.count(r);
            Map<Long, Integer> out = new HashMap<>();
            for (int i = 0; i < n; i++) {
                ObjectInfo o = ObjectInfo.read(r);
                out.put(o.index(), o.ownerVdiId());
            }
            return out;
        } finally {
            result.release();
        }
    }
}
