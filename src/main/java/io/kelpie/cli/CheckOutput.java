package io.kelpie.cli;

import io.kelpie.check.CheckReport;
import io.kelpie.check.CheckReport.Line;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.netty.buffer.ByteBuf;

import java.io.PrintStream;

/** Prints a check's report (text or JSON) and turns it into the exit status. Shared by vdi and cluster check. */
final class CheckOutput {
    /** Exit status of a check whose result is not consistent after repair. */
    static final int INCONSISTENT = 5;

    /** The help footer of both check commands (picocli turns %n into line breaks). */
    static final String FOOTER = "%n"
            + "Each replica is compared with the best copy: the newest version whose checksums verify. A replica%n"
            + "that is missing, older, has bad blocks, or has the same version but other content is repaired%n"
            + "(it copies the best one) and checked again. Copies on nodes that are not replicas are removed%n"
            + "once every replica is good and no node is recovering; otherwise they are reported and left.%n"
            + "An object of which no copy verifies is reported and never repaired from a bad copy.%n%n"
            + "Output: one line per repair ('repaired OID on HOST:PORT: version 5 < 7'), one per problem left,%n"
            + "then a summary. Exit status: 0 consistent (after any repairs); 5 not consistent (an object could%n"
            + "not be checked or repaired); otherwise as for every command (3 node unreachable, 10+N refused).";

    private CheckOutput() {
    }

    static int run(AdminClient client, PeerRequest req, boolean json, PrintStream out) {
        ByteBuf result = client.call(req);
        CheckReport r;
        try {
            r = CheckReport.read(new WireReader(result));
        } finally {
            result.release();
        }
        if (json) {
            out.println(json(r));
        } else {
            for (Line l : r.lines()) {
                out.println(l.text());
            }
            out.println(r.summary());
        }
        return r.consistent() ? 0 : INCONSISTENT;
    }

    static String json(CheckReport r) {
        Json j = new Json().beginObject().field("vdis", r.vdis()).field("objects", r.objects()).field("nodes", r.nodes())
                .field("repaired", r.repaired()).field("unrepairable", r.unrepairable())
                .field("extras_removed", r.extrasRemoved()).field("extras_left", r.extrasLeft())
                .field("consistent", r.consistent()).key("events").beginArray();
        for (Line l : r.lines()) {
            j.beginObject().field("kind", l.kind().label()).field("oid", Text.oid(l.oid())).field("node", l.node())
                    .field("message", l.text()).endObject();
        }
        return j.endArray().field("summary", r.summary()).endObject().toString();
    }
}
