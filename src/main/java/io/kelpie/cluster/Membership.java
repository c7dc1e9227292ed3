package io.kelpie.cluster;

import io.kelpie.cluster.ClusterListener.Standing;
import io.kelpie.cluster.OrderedDriver.State;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static io.kelpie.cluster.Wire.EVENT;
import static io.kelpie.cluster.Wire.HELLO;
import static io.kelpie.cluster.Wire.JOIN;
import static io.kelpie.cluster.Wire.LEAVE;
import static io.kelpie.cluster.Wire.REFUSE;
import static io.kelpie.cluster.Wire.SNAPSHOT;

/**
 * The membership state machine of an {@link OrderedDriver}, run on its single event thread:
 * joining, founding, applying the ordered stream, confirming members with HELLOs, judging the
 * group's {@link Standing} and leaving a group that must give way (see the driver's doc).
 */
final class Membership {
    private static final Logger log = LoggerFactory.getLogger(Membership.class);

    private static final long HELLO_TICK_MILLIS = 3000;

    private final OrderedDriver d;
    private final Group group = new Group();
    private final Joining joining;
    private final Set<Object> leavesSent = new HashSet<>();
    private List<Object> view = List.of();
    private boolean leaving;
    private Standing standing = Standing.MINORITY;

    Membership(OrderedDriver driver) {
        this.d = driver;
        this.joining = new Joining(driver, this);
    }

    void start() {
        view = d.transport.view();
        if (aloneInView()) {
            found();
        } else {
            joining.request(true);
        }
    }

    void leave() {
        leaving = true;
        sendLeave(d.self.id(), true);
    }

    /** The stamp of this node's next message, from the event thread. */
    Wire.Stamp stamp() {
        return group.stamp(d.self.id());
    }

    void found() {
        group.found(d.self, d.transport.self(), ThreadLocalRandom.current().nextLong());
        leavesSent.clear();
        d.state = State.MEMBER;
        publishMembers();
        log.info("founded a cluster group as {}", d.self);
        d.listener.onJoin(d.self, d.memberList, System.currentTimeMillis(), new byte[0]);
        assess();
        d.admitted.complete(null);
        hello();
    }

    /** This node's group is not the cluster (it was removed, or another group wins): join again. */
    private void detach(String why) {
        log.warn("leaving this node's cluster group and joining again: {}", why);
        d.detachedWhy = why;
        group.clear();
        leavesSent.clear();
        standing = Standing.MINORITY;
        d.failPending(Status.NO_QUORUM, "this node is rejoining the cluster (" + why + ")");
        d.listener.detached(why);
        joining.request(true);
    }

    // ---- event thread: the ordered stream ----

    void onOrdered(Object from, byte[] message) throws IOException {
        if (d.state == State.JOINING) {
            joining.onOrdered(from, message);
            return;
        }
        if (d.state == State.MEMBER) {
            apply(from, message);
            assess();
            checkLeaves();
        }
    }

    void apply(Object from, byte[] message) throws IOException {
        DataInputStream in = Wire.input(message);
        byte type = in.readByte();
        if (type == JOIN) {
            applyJoin(from, in.readLong(), in.readLong(), NodeInfo.readFrom(in), Wire.readBytes(in));
            return;
        }
        if (type != LEAVE && type != EVENT && type != HELLO) {
            log.warn("ignoring an unknown cluster message from {}", from);
            return;
        }
        Wire.Stamp stamp = Wire.Stamp.readFrom(in);
        boolean member = group.isMember(stamp, from);
        if (!member && group.movedOn(stamp, from)) {
            // One of our members speaks from another group (it detached, founded or joined one
            // while this node was paused or behind a stale view): it no longer votes for this
            // group's history, even though the transport view has not dropped it yet.
            group.unconfirm(from);
            assess();
        }
        if (type == HELLO) {
            onHello(from, stamp, member, Standing.values()[in.readUnsignedByte()], in.readUTF(), in.readLong(), in.readInt(),
                    in.readBoolean());
            return;
        }
        if (member && group.isAhead(stamp)) {
            detach("member " + stamp.sender() + " has membership changes this node missed");
            return;
        }
        if (type == LEAVE) {
            if (member) {
                applyLeave(in.readUTF(), in.readLong(), in.readBoolean());
            }
            return;
        }
        long n = in.readLong();
        byte[] payload = Wire.readBytes(in);
        boolean mine = from.equals(d.transport.self());
        if (!member) {
            if (mine) {
                d.complete(n, null, new KelpieException(Status.NO_QUORUM, "this node is not a member of the cluster group"));
            }
            return;
        }
        Object result = null;
        Throwable error = null;
        try {
            result = d.listener.onEvent(group.get(stamp.sender()).info(), payload);
        } catch (Exception e) {
            error = e;
        }
        if (mine) {
            d.complete(n, result, error);
        }
    }

    private void applyJoin(Object from, long nonce, long time, NodeInfo joiner, byte[] data) {
        if (standing == Standing.MINORITY) {
            return; // a minority admits nobody: it could not tell the joiner the cluster's state
        }
        Group.Member existing = group.get(joiner.id());
        if (existing != null && existing.address().equals(from)) {
            // The joiner lost its first attempt and asks again: it only needs a fresh snapshot.
            group.confirm(from);
            sendSnapshot(from, nonce);
            return;
        }
        String refusal;
        try {
            refusal = d.listener.checkJoin(joiner, data);
        } catch (RuntimeException e) {
            refusal = "join check failed: " + KelpieException.messageOf(e);
        }
        if (refusal != null) {
            log.warn("refused node {}: {}", joiner, refusal);
            if (isLeader()) {
                String why = refusal;
                d.unicast(from, out -> {
                    out.writeByte(REFUSE);
                    out.writeLong(nonce);
                    out.writeUTF(why);
                });
            }
            return;
        }
        // A node that restarted (same id or same address) replaces its old incarnation.
        for (Group.Member m : group.all()) {
            if (m.info().id().equals(joiner.id()) || m.info().address().equals(joiner.address())) {
                applyLeave(m.info().id(), time, false);
            }
        }
        group.admit(joiner, from);
        publishMembers();
        log.info("node {} joined ({} members)", joiner, group.size());
        d.listener.onJoin(joiner, d.memberList, time, data);
        sendSnapshot(from, nonce);
    }

    private void sendSnapshot(Object to, long nonce) {
        // The joiner never speaks for the group to itself: a member that detached and asks in
        // again may still be first in admission order and, behind a stale view, confirmed.
        Group.Member l = group.leader(view, to);
        if (l == null || !l.info().id().equals(d.self.id())) {
            return;
        }
        byte[] appState = d.listener.snapshot();
        d.unicast(to, out -> {
            out.writeByte(SNAPSHOT);
            out.writeLong(nonce);
            group.writeTo(out, d.transport);
            Wire.writeBytes(out, appState);
        });
    }

    private void applyLeave(String id, long time, boolean selfLeave) {
        boolean itself = id.equals(d.self.id());
        if (selfLeave && !itself && standing == Standing.MINORITY) {
            // A minority must not change its membership (the majority may be changing its own);
            // once a majority is back, its leader removes the node, which is gone from the view.
            log.info("node {} left, but without quorum its departure waits for the majority", id);
            return;
        }
        Group.Member m = group.remove(id);
        if (m == null) {
            return;
        }
        leavesSent.remove(m.address());
        publishMembers();
        if (itself) {
            if (leaving) {
                d.state = State.LEFT;
                log.info("left the cluster");
                CompletableFuture<Void> l = d.left;
                if (l != null) {
                    l.complete(null);
                }
            } else {
                // The others declared this node dead (a false suspicion, a partition): rejoin and
                // take the cluster's state afresh rather than diverge from it.
                detach("the cluster removed this node");
            }
            return;
        }
        log.info("node {} left ({} members)", m.info(), group.size());
        d.listener.onLeave(m.info(), d.memberList, time);
    }

    private void onHello(Object from, Wire.Stamp stamp, boolean member, Standing theirs, String tag, long claim, int size,
                         boolean ask) {
        if (from.equals(d.transport.self())) {
            return;
        }
        if (member) {
            if (group.isAhead(stamp)) {
                detach("member " + stamp.sender() + " has membership changes this node missed");
            } else if (group.agrees(stamp)) {
                group.confirm(from);
                if (ask) {
                    hello(); // it came back to a view that had not changed for us: tell it we are here
                }
            } else if (stamp.generation() == group.stamp(d.self.id()).generation()) {
                group.unconfirm(from); // same generation, other changes: not a vote for this history
            }
            // Behind: its HELLO was sent before changes ordered ahead of it; it confirms later.
            return;
        }
        if (MergeRule.yields(standing, d.listener.groupTag(), d.listener.claim(), group.size(), group.lineage(),
                theirs, tag, claim, size, stamp.lineage())) {
            detach("found a " + theirs.name().toLowerCase() + " cluster group (" + size + " node(s), led by "
                    + stamp.sender() + ") that this one yields to");
        }
    }

    void onUnicast(Object from, byte[] message) throws IOException {
        joining.onUnicast(from, message);
    }

    /** Reads the group out of an admission snapshot; the caller restores the application. */
    void adopt(DataInputStream in) throws IOException {
        group.readFrom(in, d.transport);
        group.confirmAll(view);
        publishMembers();
    }

    /** Admitted: the snapshot is installed and the deliveries after the JOIN are replayed. */
    void admitted(List<Joining.Delivery> replay) throws IOException {
        d.state = State.MEMBER;
        standing = Standing.MINORITY;
        leavesSent.clear();
        log.info("joined the cluster as {} ({} members)", d.self, group.size());
        assess();
        for (Joining.Delivery x : replay) {
            if (d.state == State.MEMBER) {
                apply(x.from(), x.message());
                assess();
            }
        }
        d.admitted.complete(null);
        assess();
        hello();
        checkLeaves();
    }

    List<Object> view() {
        return view;
    }

    void onView(List<Object> v) {
        view = List.copyOf(v);
        if (d.state == State.JOINING && aloneInView()) {
            // Every member we could have joined is gone: this node carries the cluster on.
            log.warn("no other cluster member is reachable; founding a group from local state");
            found();
            return;
        }
        if (d.state == State.MEMBER) {
            group.prune(view);
            assess();
            hello();
            checkLeaves();
        }
    }

    /** Asks the listener where the group stands with the members it can reach; HELLOs a change. */
    private void assess() {
        if (d.state != State.MEMBER) {
            return;
        }
        Standing now = d.listener.assess(d.memberList, group.reachable(view));
        if (now != standing) {
            log.info("cluster group standing: {} -> {} ({} of {} members reachable)", standing, now,
                    group.reachable(view).size(), group.size());
            standing = now;
            hello();
        }
    }

    private void hello() {
        if (d.state != State.MEMBER) {
            return;
        }
        Wire.Stamp stamp = group.stamp(d.self.id());
        Standing s = standing;
        String tag = d.listener.groupTag();
        long claim = d.listener.claim();
        int size = group.size();
        boolean ask = group.missesConfirmations(view);
        d.multicast(Wire.hello(stamp, s, tag, claim, size, ask));
    }

    /** While strangers are in the view (joiners, other groups, unconfirmed members), HELLO now and then. */
    void scheduleTick() {
        CompletableFuture.delayedExecutor(HELLO_TICK_MILLIS, TimeUnit.MILLISECONDS).execute(() -> d.submit(() -> {
            if (d.state == State.LEFT) {
                return;
            }
            if (d.state == State.MEMBER && group.viewHasStrangers(view)) {
                hello();
            }
            scheduleTick();
        }));
    }

    private boolean isLeader() {
        Group.Member l = group.leader(view);
        return l != null && l.info().id().equals(d.self.id());
    }

    private void checkLeaves() {
        if (d.state != State.MEMBER || standing == Standing.MINORITY || !isLeader()) {
            return;
        }
        Set<Object> live = new HashSet<>(view);
        for (Group.Member m : group.all()) {
            if (!live.contains(m.address()) && leavesSent.add(m.address())) {
                log.info("node {} is gone from the view; announcing its leave", m.info());
                sendLeave(m.info().id(), false);
            }
        }
    }

    void sendLeave(String id, boolean selfLeave) {
        Wire.Stamp stamp = group.stamp(d.self.id());
        d.multicast(Wire.leave(stamp, id, System.currentTimeMillis(), selfLeave));
    }

    boolean aloneInView() {
        return view.size() == 1 && view.get(0).equals(d.transport.self());
    }

    private void publishMembers() {
        d.memberList = group.infos();
    }
}

