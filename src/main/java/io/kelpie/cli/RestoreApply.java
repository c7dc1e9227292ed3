package io.kelpie.cli;

import io.kelpie.backup.BackupFormat.Header;
import io.kelpie.backup.BackupFormat.Summary;
import io.kelpie.backup.BackupReader;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Writes a validated backup stream into VDI NAME and takes snapshot TAG, or, should anything fail
 * after the first write, gives the VDI back as it was: an incremental restore started at FROM with
 * no objects of its own, so rolling back to FROM is exactly its old content; a full one started
 * empty, so trimming the whole VDI empties it again. When even the undo fails, the one line says
 * what state the VDI is in and the command that fixes it.
 */
final class RestoreApply {
    /** How long the undo waits for this node's last restore writes to let go of the VDI (rollback needs it closed). */
    private static final long UNDO_WAIT_MS = 10_000;
    /** The hold's lease, renewed every third of it while the writes go on. */
    private static final int LEASE_MS = 30_000;

    private final AdminClient client;
    private final String name;
    private final String tag;
    private final Header header;
    /** Whether some write may have reached the VDI: from then on a failure is undone. */
    private boolean touched;
    private long records;
    private long hold;
    private long renewed;

    RestoreApply(AdminClient client, String name, String tag, Header header) {
        this.client = client;
        this.name = name;
        this.tag = tag;
        this.header = header;
    }

    /**
     * Holds the VDI open on the node we talk to until {@link #release}: the open claims it in the
     * cluster's order, so a VDI in use on another node is refused here, before one byte is
     * written, and no other node can claim it between two chunks. A node without VDI_HOLD gets an
     * empty write instead, which checks the claim once.
     */
    void hold() {
        try {
            ByteBuf b = client.call(holdRequest(LEASE_MS));
            try {
                hold = b.readLong();
            } finally {
                b.release();
            }
            renewed = System.currentTimeMillis();
        } catch (KelpieException e) {
            if (e.status() != Status.UNSUPPORTED) {
                throw new KelpieException(e.status(), e.getMessage() + "; nothing was changed");
            }
            try {
                AdminClient.await(client.send(VdiCalls.write(name, 0, Unpooled.EMPTY_BUFFER))).release();
            } catch (KelpieException refused) {
                throw new KelpieException(refused.status(), refused.getMessage() + "; nothing was changed");
            }
        }
    }

    /** Lets go of the hold; should that fail, the lease ends it on the node. */
    void release() {
        if (hold == 0) {
            return;
        }
        try {
            client.call(holdRequest(0)).release();
        } catch (KelpieException | CliError ignored) {
            // the lease ends it
        }
        hold = 0;
    }

    private void renewIfDue() {
        long now = System.currentTimeMillis();
        if (hold != 0 && now - renewed > LEASE_MS / 3) {
            renewed = now;
            // not awaited: should it fail (the lease ran out), the writes still open the VDI themselves
            client.send(holdRequest(LEASE_MS)).whenComplete((r, err) -> {
                if (r != null) {
                    r.release();
                }
            });
        }
    }

    private PeerRequest holdRequest(int leaseMs) {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).i32(leaseMs);
        return new PeerRequest(PeerConstants.VDI_HOLD, 0, 0, 0, 0, hold, 0, args);
    }

    /** Applies the stream, flushes and takes the snapshot; returns it. Throws, after undoing, on any failure. */
    VdiInfo run(Path spool, Summary s, Progress progress) {
        try {
            writeAll(spool, s, progress);
        } catch (IOException e) {
            // the spool validated a moment ago: a local disk failing under us, undone all the same
            throw undone(new CliError(CliError.BAD_INPUT, "cannot read the spooled stream: " + e.getMessage()),
                    "at record " + records + " of " + s.records());
        } catch (RuntimeException e) {
            throw undone(e, "at record " + records + " of " + s.records());
        }
        try {
            // the snapshot that follows must hold every byte, durably
            VdiCalls.flush(client);
        } catch (RuntimeException e) {
            throw undone(e, "flushing its writes");
        }
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).string(tag);
        try {
            return VdiCalls.decodeOne(client.call(PeerRequest.withPayload(PeerConstants.VDI_SNAPSHOT, 0, 0, 0, 0, args)));
        } catch (RuntimeException e) {
            // an answer lost on the way may hide a snapshot that was taken: then the restore is done
            try {
                return VdiCalls.lookup(client, name + "@" + tag);
            } catch (RuntimeException notTaken) {
                throw undone(e, "taking snapshot '" + name + "@" + tag + "'");
            }
        }
    }

    private void writeAll(Path spool, Summary s, Progress progress) throws IOException {
        ArrayDeque<CompletableFuture<PeerResponse>> window = new ArrayDeque<>();
        long bytes = 0;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(spool), 1 << 20)) {
            BackupReader r = new BackupReader(in);
            for (BackupReader.Record rec = r.next(); rec != null; rec = r.next()) {
                if (window.size() >= Pipeline.WINDOW) {
                    consume(window.poll());
                }
                renewIfDue();
                window.add(client.send(VdiCalls.write(name, rec.offset(), Unpooled.wrappedBuffer(rec.data()))));
                bytes += rec.data().length;
                progress.stepTo(bytes);
            }
            while (!window.isEmpty()) {
                consume(window.poll());
            }
        } finally {
            // after a failure: every write still in flight ends (and lets go of the VDI) before the undo
            while (!window.isEmpty()) {
                try {
                    consume(window.poll());
                } catch (KelpieException | CliError ignored) {
                    // the first failure is the one reported
                }
            }
        }
    }

    private void consume(CompletableFuture<PeerResponse> f) {
        try {
            AdminClient.await(f).release();
            touched = true;
            records++;
        } catch (KelpieException e) {
            // refused when opening the VDI: that write did not reach it
            if (e.status() != Status.VDI_LOCKED && e.status() != Status.NO_VDI) {
                touched = true;
            }
            throw e;
        } catch (CliError e) {
            touched = true; // the node went away: the write may have landed
            throw e;
        }
    }

    /** The failure as one line, after undoing what was written (or saying how to, when that fails too). */
    private RuntimeException undone(RuntimeException e, String where) {
        String what = "restore of VDI '" + name + "' failed " + where + ": " + KelpieException.messageOf(e);
        if (!touched) {
            return fail(e, what + "; nothing was changed");
        }
        try {
            String back;
            if (header.full()) {
                back = empty(); // through the held handle
            } else {
                release(); // a rollback needs the VDI closed
                back = rollback();
            }
            return fail(e, what + "; undone: " + back);
        } catch (KelpieException | CliError undo) {
            String fix = header.full()
                    ? "kelpie vdi delete " + name + " && kelpie vdi create " + name + " " + header.size()
                    : "kelpie vdi rollback " + name + " -s " + header.from().label();
            return fail(e, what + "; undoing it failed too (" + KelpieException.messageOf(undo) + "): VDI '" + name
                    + "' is partly restored; fix it with '" + fix + "'");
        }
    }

    /** Full stream: the VDI was empty; every object it has now is the restore's. */
    private String empty() {
        AdminClient.await(client.send(VdiCalls.trim(name, 0, header.size()))).release();
        VdiInfo now = VdiCalls.lookup(client, name);
        if (now.usedObjects() + now.sharedObjects() != 0) {
            throw new KelpieException(Status.IO_ERROR, "VDI '" + name + "' still has " + now.usedObjects()
                    + " objects after the trim");
        }
        return "VDI '" + name + "' is empty again";
    }

    /** Incremental stream: the VDI was at FROM with nothing of its own, which is what a rollback to FROM gives. */
    private String rollback() {
        String from = header.from().label();
        long deadline = System.currentTimeMillis() + UNDO_WAIT_MS;
        while (true) {
            ByteBuf args = Unpooled.buffer();
            new WireWriter(args).string(name).string(from);
            try {
                client.call(PeerRequest.withPayload(PeerConstants.VDI_ROLLBACK, 0, 0, 0, 0, args)).release();
                return "VDI '" + name + "' is back at '" + name + "@" + from + "'";
            } catch (KelpieException busy) {
                // the last write's close (and with it the claim's release) may still be on its way
                if (busy.status() != Status.VDI_LOCKED || System.currentTimeMillis() > deadline) {
                    throw busy;
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new KelpieException(Status.IO_ERROR, "interrupted");
            }
        }
    }

    private static RuntimeException fail(RuntimeException e, String line) {
        if (e instanceof CliError ce) {
            return new CliError(ce.exitCode(), line);
        }
        return new KelpieException(e instanceof KelpieException ke ? ke.status() : Status.IO_ERROR, line);
    }
}
