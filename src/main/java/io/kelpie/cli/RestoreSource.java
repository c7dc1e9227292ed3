package io.kelpie.cli;

import io.kelpie.backup.BackupFormat;
import io.kelpie.backup.BackupFormat.Header;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/**
 * The base check by identity (doc/backup-format.md): a restore records on the snapshot it takes
 * which source snapshot it holds ({@link BackupFormat#SOURCE_ATTR}: source VDI name, tag, VDI id,
 * snapshot id, ctime, all from the stream's header); an incremental restore then requires its
 * FROM to be exactly that snapshot, so a stream of another VDI or of a re-made snapshot with the
 * same tag is refused. A base without the attribute (made by hand, e.g. a clone, or restored by an
 * older kelpie) is checked by tag only.
 */
final class RestoreSource {
    private RestoreSource() {
    }

    /** Refuses, changing nothing, when snapshot {@code base} (NAME@TAG) records another source than FROM. */
    static void check(AdminClient client, String base, Header h) {
        String want = h.from().identity(h.name());
        String have;
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(base).string(BackupFormat.SOURCE_ATTR);
        try {
            ByteBuf v = client.call(PeerRequest.withPayload(PeerConstants.VDI_GETATTR, 0, 0, 0, 0, args));
            try {
                have = v.toString(StandardCharsets.UTF_8);
            } finally {
                v.release();
            }
        } catch (KelpieException e) {
            if (e.status() == Status.NO_OBJECT) {
                return;
            }
            throw e;
        }
        if (!have.equals(want)) {
            throw new KelpieException(Status.INVALID, "the stream is based on " + want + ", but '" + base
                    + "' was restored from " + have + "; nothing was changed");
        }
    }

    /** Records on the snapshot just taken that it holds the stream's TO; returns a warning, or null. */
    static String record(AdminClient client, String snapshot, Header h) {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(snapshot).string(BackupFormat.SOURCE_ATTR).i32(0);
        args.writeBytes(h.to().identity(h.name()).getBytes(StandardCharsets.UTF_8));
        try {
            client.call(PeerRequest.withPayload(PeerConstants.VDI_SETATTR, 0, 0, 0, 0, args)).release();
            return null;
        } catch (KelpieException | CliError e) {
            return "warning: could not record attribute " + BackupFormat.SOURCE_ATTR + " on '" + snapshot + "' ("
                    + KelpieException.messageOf(e) + "): the next incremental restore onto it is checked by tag only";
        }
    }
}
