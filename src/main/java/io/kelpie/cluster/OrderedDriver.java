package io.kelpie.cluster;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The driver logic shared by every transport. Membership is itself part of the ordered stream:
 * a node asks to join with an ordered JOIN, a member that sees a node vanish from the transport's
 * view broadcasts an ordered LEAVE for it, and every member applies JOINs, LEAVEs and events in
 * delivery order. So all members see the same membership at the same point of the stream, which
 * transport views alone do not guarantee.
 *
 * <p>A joiner ignores the stream until its own JOIN is delivered and buffers what follows; a
 * member in its view sends it a snapshot taken when that JOIN was applied, and the joiner installs
 * it and replays the buffer. A node alone in the view founds the cluster from its own state.
 */
abstract class OrderedDriver implements ClusterDriver {
    private static final Logger log = LoggerFactory.getLogger(OrderedDriver.class);

    private static final byte JOIN = 1;
    private static final byte LEAVE = 2;
    private static final byte EVENT = 3;
    private static final byte SNAPSHOT = 4;
    private static final byte REFUSE = 5;
    private static final long JOIN_RETRY_MILLIS = 5000;

    private enum State { IDLE, JOINING, MEMBER, LEFT }

    private record Member(NodeInfo info, Object address) {
    }

    private record Delivery(Object from, byte[] message) {
    }

    private final Transport transport;
    private final ExecutorService events;
    private final Map<Long, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
    private final AtomicLong seq = new AtomicLong();

    // Confined to the event thread.
    private final LinkedHashMap<String, Member> members = new LinkedHashMap<>();
    private final List<Delivery> buffered = new ArrayList<>();
    private final Set<Object> leavesSent = new HashSet<>();
    private List<Object> view = List.of();
    private long joinNonce;
    private boolean sawOwnJoin;
    private DataInputStream heldSnapshot;
    private boolean leaving;

    private volatile State state = State.IDLE;
    private volatile List<NodeInfo> memberList = List.of();
    private volatile NodeInfo self;
    private volatile ClusterListener listener;
    /** Completes when this node becomes a member; requests that arrive before then wait for it. */
    private volatile CompletableFuture<Void> admitted = new CompletableFuture<>();
    private volatile CompletableFuture<Void> left;

    OrderedDriver(Transport transport, String threadName) {
        this.transport = transport;
        this.events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void join(NodeInfo me, byte[] joinData, ClusterListener l, long timeoutMillis) throws InterruptedException {
        if (state != State.IDLE) {
            throw new IllegalStateException("join called twice");
        }
        this.self = me;
        this.listener = l;
        this.joinData = joinData.clone();
        CompletableFuture<Void> done = admitted;
        try {
            transport.start(new Transport.Handler() {
                @Override
                public void ordered(Object from, byte[] message) {
                    submit(() -> onOrdered(from, message));
                }

                @Override
                public void unicast(Object from, byte[] message) {
                    submit(() -> onUnicast(from, message));
                }

                @Override
                public void view(List<Object> v) {
                    submit(() -> onView(v));
                }
            });
        } catch (Exception e) {
            close();
            throw new KelpieException(Status.IO_ERROR, "cannot start cluster membership: " + KelpieException.messageOf(e), e);
        }
        submit(() -> {
            view = transport.view();
            if (aloneInView()) {
                found();
            } else {
                requestJoin();
            }
        });
        try {
            done.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            close();
            throw new KelpieException(Status.IO_ERROR, "no cluster member admitted this node within " + timeoutMillis + " ms");
        } catch (ExecutionException e) {
            close();
            Throwable c = e.getCause();
            throw c instanceof KelpieException ke ? ke : new KelpieException(Status.IO_ERROR, KelpieException.messageOf(c), c);
        }
    }

    private byte[] joinData = new byte[0];

    @Override
    public CompletableFuture<Object> broadcast(byte[] payload) {
        CompletableFuture<Void> joining = admitted;
        if ((state == State.IDLE || state == State.JOINING) && !joining.isDone()) {
            // The peer port opens before the node is admitted: an admin request arriving in
            // between waits for admission (or fails with the reason the join failed).
            return joining.thenCompose(v -> broadcast(payload));
        }
        if (state != State.MEMBER) {
            return CompletableFuture.failedFuture(new KelpieException(Status.SHUTDOWN, "this node is not a cluster member"));
        }
        long n = seq.incrementAndGet();
        CompletableFuture<Object> f = new CompletableFuture<>();
        pending.put(n, f);
        try {
            transport.multicast(encode(out -> {
                out.writeByte(EVENT);
                out.writeUTF(self.id());
                out.writeLong(n);
                writeBytes(out, payload);
            }));
        } catch (Exception e) {
            pending.remove(n);
            f.completeExceptionally(new KelpieException(Status.IO_ERROR, "cluster broadcast failed: " + KelpieException.messageOf(e), e));
        }
        return f;
    }

    @Override
    public List<NodeInfo> members() {
        return memberList;
    }

    @Override
    public NodeInfo self() {
        return self;
    }

    @Override
    public void leave() {
        if (state != State.MEMBER) {
            return;
        }
        CompletableFuture<Void> gone = new CompletableFuture<>();
        left = gone;
        submit(() -> {
            leaving = true;
            multicast(out -> {
                out.writeByte(LEAVE);
                out.writeUTF(self.id());
                out.writeLong(System.currentTimeMillis());
            });
        });
        try {
            gone.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("graceful leave was not confirmed; the others will notice the departure by timeout");
        }
    }

    @Override
    public void close() {
        leave();
        state = State.LEFT;
        transport.close();
        events.shutdown();
        try {
            events.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failPending("this node left the cluster");
    }

    /** Stops at once, as a crash would: no leave message, the others find out from the transport. */
    void crash() {
        state = State.LEFT;
        transport.kill();
        events.shutdownNow();
        failPending("this node crashed");
    }

    // ---- event thread ----

    private void found() {
        members.clear();
        members.put(self.id(), new Member(self, transport.self()));
        state = State.MEMBER;
        publishMembers();
        log.info("founded the cluster as {}", self);
        listener.onJoin(self, memberList, System.currentTimeMillis());
        admitted.complete(null);
    }

    private void requestJoin() {
        state = State.JOINING;
        joinNonce = ThreadLocalRandom.current().nextLong();
        sawOwnJoin = false;
        buffered.clear();
        heldSnapshot = null;
        long nonce = joinNonce;
        scheduleJoinRetry(nonce);
        multicast(out -> {
            out.writeByte(JOIN);
            out.writeLong(nonce);
            out.writeLong(System.currentTimeMillis());
            self.writeTo(out);
            writeBytes(out, joinData);
        });
    }

    /**
     * A JOIN can be lost (sent while the transport's view was changing, or this node was dropped
     * from it right after), and so can the snapshot (its sender crashed): if this node is not a
     * member within a few seconds, it asks again; a member answers a repeated JOIN with a fresh
     * snapshot taken at the new JOIN.
     */
    private void scheduleJoinRetry(long nonce) {
        CompletableFuture.delayedExecutor(JOIN_RETRY_MILLIS, TimeUnit.MILLISECONDS).execute(() -> submit(() -> {
            if (state == State.JOINING && joinNonce == nonce) {
                log.info("not admitted yet ({}); asking again", sawOwnJoin ? "no snapshot" : "no answer");
                requestJoin();
            }
        }));
    }

    private void onOrdered(Object from, byte[] message) throws IOException {
        if (state == State.JOINING) {
            DataInputStream in = input(message);
            if (in.readByte() == JOIN && in.readLong() == joinNonce && from.equals(transport.self())) {
                sawOwnJoin = true;
                maybeInstall();
            } else if (sawOwnJoin) {
                buffered.add(new Delivery(from, message));
            }
            return;
        }
        if (state == State.MEMBER) {
            apply(from, message);
            checkLeaves();
        }
    }

    private void apply(Object from, byte[] message) throws IOException {
        DataInputStream in = input(message);
        switch (in.readByte()) {
            case JOIN -> applyJoin(from, in.readLong(), in.readLong(), NodeInfo.readFrom(in), readBytes(in));
            case LEAVE -> applyLeave(in.readUTF(), in.readLong());
            case EVENT -> applyEvent(from, in.readUTF(), in.readLong(), readBytes(in));
            default -> log.warn("ignoring an unknown cluster message from {}", from);
        }
    }

    private void applyJoin(Object from, long nonce, long time, NodeInfo joiner, byte[] data) {
        Member existing = members.get(joiner.id());
        if (existing != null && existing.address().equals(from)) {
            // The joiner lost its first attempt and asks again: it only needs a fresh snapshot.
            sendSnapshot(from, nonce);
            return;
        }
        String refusal;
        try {
            refusal = listener.checkJoin(joiner, data);
        } catch (RuntimeException e) {
            refusal = "join check failed: " + KelpieException.messageOf(e);
        }
        if (refusal != null) {
            log.warn("refused node {}: {}", joiner, refusal);
            if (leaderInView()) {
                String why = refusal;
                unicast(from, out -> {
                    out.writeByte(REFUSE);
                    out.writeLong(nonce);
                    out.writeUTF(why);
                });
            }
            return;
        }
        // A node that restarted (same id or same address) replaces its old incarnation.
        for (Iterator<Member> it = new ArrayList<>(members.values()).iterator(); it.hasNext(); ) {
            Member m = it.next();
            if (m.info().id().equals(joiner.id()) || m.info().address().equals(joiner.address())) {
                applyLeave(m.info().id(), time);
            }
        }
        members.put(joiner.id(), new Member(joiner, from));
        publishMembers();
        log.info("node {} joined ({} members)", joiner, members.size());
        listener.onJoin(joiner, memberList, time);
        sendSnapshot(from, nonce);
    }

    private void sendSnapshot(Object to, long nonce) {
        if (!leaderInView()) {
            return;
        }
        byte[] state = listener.snapshot();
        List<Member> list = new ArrayList<>(members.values());
        unicast(to, out -> {
            out.writeByte(SNAPSHOT);
            out.writeLong(nonce);
            out.writeInt(list.size());
            for (Member m : list) {
                m.info().writeTo(out);
                transport.writeAddress(m.address(), out);
            }
            writeBytes(out, state);
        });
    }

    private void applyLeave(String id, long time) {
        Member m = members.remove(id);
        if (m == null) {
            return;
        }
        leavesSent.remove(m.address());
        publishMembers();
        if (id.equals(self.id())) {
            if (leaving) {
                state = State.LEFT;
                log.info("left the cluster");
                CompletableFuture<Void> l = left;
                if (l != null) {
                    l.complete(null);
                }
            } else {
                // The others declared this node dead (a false suspicion, a partition): rejoin and
                // take the cluster's state afresh rather than diverge from it.
                log.error("the cluster removed this node; rejoining");
                failPending("this node was removed from the cluster");
                members.clear();
                requestJoin();
            }
            return;
        }
        log.info("node {} left ({} members)", m.info(), members.size());
        listener.onLeave(m.info(), memberList, time);
    }

    private void applyEvent(Object from, String senderId, long n, byte[] payload) {
        boolean mine = from.equals(transport.self());
        Member sender = members.get(senderId);
        if (sender == null || !sender.address().equals(from)) {
            if (mine) {
                complete(n, null, new KelpieException(Status.SHUTDOWN, "this node is not a cluster member"));
            }
            return;
        }
        Object result = null;
        Throwable error = null;
        try {
            result = listener.onEvent(sender.info(), payload);
        } catch (Exception e) {
            error = e;
        }
        if (mine) {
            complete(n, result, error);
        }
    }

    private void complete(long n, Object result, Throwable error) {
        CompletableFuture<Object> f = pending.remove(n);
        if (f == null) {
            return;
        }
        if (error != null) {
            f.completeExceptionally(error);
        } else {
            f.complete(result);
        }
    }

    private void onUnicast(Object from, byte[] message) throws IOException {
        DataInputStream in = input(message);
        byte type = in.readByte();
        long nonce = in.readLong();
        if (state != State.JOINING || nonce != joinNonce) {
            return;
        }
        if (type == REFUSE) {
            String why = in.readUTF();
            log.error("the cluster refused this node: {}", why);
            state = State.LEFT;
            admitted.completeExceptionally(new KelpieException(Status.CLUSTER_MISMATCH, "the cluster refused this node: " + why));
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
        int n = in.readInt();
        members.clear();
        for (int i = 0; i < n; i++) {
            NodeInfo info = NodeInfo.readFrom(in);
            members.put(info.id(), new Member(info, transport.readAddress(in)));
        }
        byte[] state = readBytes(in);
        publishMembers();
        listener.restore(memberList, state);
        this.state = State.MEMBER;
        log.info("joined the cluster as {} ({} members)", self, members.size());
        List<Delivery> replay = new ArrayList<>(buffered);
        buffered.clear();
        for (Delivery d : replay) {
            if (this.state == State.MEMBER) {
                apply(d.from(), d.message());
            }
        }
        checkLeaves();
        admitted.complete(null);
    }

    private void onView(List<Object> v) {
        view = List.copyOf(v);
        if (state == State.JOINING && aloneInView()) {
            // Every member we could have joined is gone: this node carries the cluster on.
            log.warn("no other cluster member is reachable; founding the cluster from local state");
            buffered.clear();
            found();
            return;
        }
        checkLeaves();
    }

    /** The first member, in admission order, that this node's view contains, speaks for the cluster. */
    private boolean leaderInView() {
        Set<Object> live = new HashSet<>(view);
        for (Member m : members.values()) {
            if (live.contains(m.address())) {
                return m.info().id().equals(self.id());
            }
        }
        return false;
    }

    private void checkLeaves() {
        if (state != State.MEMBER || !leaderInView()) {
            return;
        }
        Set<Object> live = new HashSet<>(view);
        for (Member m : members.values()) {
            if (!live.contains(m.address()) && leavesSent.add(m.address())) {
                log.info("node {} is gone from the view; announcing its leave", m.info());
                String id = m.info().id();
                multicast(out -> {
                    out.writeByte(LEAVE);
                    out.writeUTF(id);
                    out.writeLong(System.currentTimeMillis());
                });
            }
        }
    }

    private boolean aloneInView() {
        return view.size() == 1 && view.get(0).equals(transport.self());
    }

    private void publishMembers() {
        List<NodeInfo> list = new ArrayList<>(members.size());
        members.values().forEach(m -> list.add(m.info()));
        memberList = List.copyOf(list);
    }

    private void failPending(String why) {
        admitted.completeExceptionally(new KelpieException(Status.SHUTDOWN, why));
        for (Iterator<CompletableFuture<Object>> it = pending.values().iterator(); it.hasNext(); ) {
            it.next().completeExceptionally(new KelpieException(Status.SHUTDOWN, why));
            it.remove();
        }
    }

    // ---- plumbing ----

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Task {
        void run() throws Exception;
    }

    private void submit(Task task) {
        try {
            events.execute(() -> {
                try {
                    task.run();
                } catch (Exception e) {
                    log.error("cluster event handling failed: {}", KelpieException.messageOf(e), e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // Closed: late deliveries are dropped.
        }
    }

    private void multicast(Body body) {
        try {
            transport.multicast(encode(body));
        } catch (Exception e) {
            log.warn("cluster multicast failed: {}", KelpieException.messageOf(e));
        }
    }

    private void unicast(Object to, Body body) {
        try {
            transport.unicast(to, encode(body));
        } catch (Exception e) {
            log.warn("cluster unicast to {} failed: {}", to, KelpieException.messageOf(e));
        }
    }

    private static byte[] encode(Body body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        body.write(out);
        out.flush();
        return bytes.toByteArray();
    }

    private static DataInputStream input(byte[] message) {
        return new DataInputStream(new ByteArrayInputStream(message));
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > (256 << 20)) {
            throw new IOException("bad cluster message length " + n);
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}
