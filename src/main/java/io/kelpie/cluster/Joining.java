package io.kelpie.cluster;

import io.kelpie.cluster.OrderedDriver.State;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.kelpie.cluster.Wire.JOIN;
import static io.kelpie.cluster.Wire.REFUSE;
import static io.kelpie.cluster.Wire.SNAPSHOT;

/**
 * The joiner's side of admission, on the driver's event thread: send an ordered JOIN, wait for
 * it to be delivered and for the leader's snapshot (in either order), buffer what the stream
 * delivers after the JOIN, then hand both to {@link Membership}.
 */
final class Joining {
    private static final Logger log = LoggerFactory.getLogger(Joining.class);
    private static final long JOIN_RETRY_MILLIS = 5000;

    record Delivery(Object from, byte[] message) {
    }

    private final OrderedDriver d;
    private final Membership membership;
    private final List<Delivery> buffered = new ArrayList<>();
    private long nonce;
    private int attempts;
    private boolean sawOwnJoin;
    private DataInputStream heldSnapshot;

    Joining(OrderedDriver d, Membership membership) {
        this.d = d;
        this.membership = membership;
    }

    /** Asks to join ({@code fresh}: a new attempt, not a retry of the last one). */
    void request(boolean fresh) {
        if (fresh) {
            attempts = 0;
        }
        d.state = State.JOINING;
        nonce = ThreadLocalRandom.current().nextLong();
        attempts++;
        sawOwnJoin = false;
        buffered.clear();
        heldSnapshot = null;
        long n = nonce;
        byte[] data = d.listener.joinData();
        scheduleRetry(n);
        d.multicast(out -> {
            out.writeByte(JOIN);
            out.writeLong(n);
            out.writeLong(System.currentTimeMillis());
            d.self.writeTo(out);
            Wire.writeBytes(out, data);
        });
    }

    /**
     * A JOIN can be lost (sent while the view was changing) and so can the snapshot (its sender
     * crashed): a node not admitted within a few seconds asks again, and a member answers a
     * repeated JOIN with a fresh snapshot. When nobody answers twice (every node in the view is
     * a joiner or in a minority), the first node of the transport view - the same node for all
     * of them - founds a group from its own state; that group serves only once its last epoch's
     * nodes are back (see ClusterManager), so founding can never fork the history.
     */
    private void scheduleRetry(long n) {
        CompletableFuture.delayedExecutor(JOIN_RETRY_MILLIS, TimeUnit.MILLISECONDS).execute(() -> d.submit(() -> {
            if (d.state != State.JOINING || nonce != n) {
                return;
            }
            List<Object> view = membership.view();
            if (attempts >= 2 && !view.isEmpty() && view.get(0).equals(d.transport.self())) {
                log.warn("no cluster member admitted this node; founding a group from local state");
                membership.found();
                return;
            }
            log.info("not admitted yet ({}); asking again", sawOwnJoin ? "no snapshot" : "no answer");
            request(false);
        }));
    }

    void onOrdered(Object from, byte[] message) throws IOException {
        DataInputStream in = Wire.input(message);
        if (in.readByte() == JOIN && in.readLong() == nonce && from.equals(d.transport.self())) {
            sawOwnJoin = true;
            maybeInstall();
        } else if (sawOwnJoin) {
            buffered.add(new Delivery(from, message));
        }
    }

    void onUnicast(Object from, byte[] message) throws IOException {
        DataInputStream in = Wire.input(message);
        byte type = in.readByte();
        long n = in.readLong();
        if (d.state != State.JOINING || n != nonce) {
            return;
        }
        if (type == REFUSE) {
            String why = in.readUTF();
            log.error("the cluster refused this node: {}", why);
            d.state = State.LEFT;
            d.admitted.completeExceptionally(new KelpieException(Status.CLUSTER_MISMATCH, "the cluster refused this node: " + why));
        } else if (type == SNAPSHOT && heldSnapshot == null) {
            heldSnapshot = in;
            maybeInstall();
        }
    }

    private void maybeInstall() throws IOException {
        if (!sawOwnJoin || heldSnapshot == null) {
            return;
        }
        DataInputStream in = heldSnapshot;
        heldSnapshot = null;
        membership.adopt(in);
        byte[] appState = Wire.readBytes(in);
        d.listener.restore(d.memberList, appState);
        List<Delivery> replay = new ArrayList<>(buffered);
        buffered.clear();
        membership.admitted(replay);
    }
}
