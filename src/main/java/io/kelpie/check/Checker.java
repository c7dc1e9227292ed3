package io.kelpie.check;

import io.kelpie.check.CheckReport.Kind;
import io.kelpie.check.CheckReport.Line;
import io.kelpie.check.ReplicaVerdict.Finding;
import io.kelpie.check.ReplicaVerdict.Problem;
import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.peer.ObjectMessages;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.PeerTransport;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.recovery.ObjectFetcher.Holder;
import io.kelpie.store.ObjectStore.ObjectMeta;
import io.kelpie.common.ObjectIds;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code vdi check} and {@code cluster check}: for every object, asks every member for its copy
 * (STAT_OBJ, verified), decides with {@link ReplicaVerdict}, sends REPAIR_OBJ to each ring replica
 * that differs (the replica pulls the best copy itself) and STATs it again to confirm. Copies on
 * nodes that are not replicas are removed only once every replica is good and no recovery runs
 * (recovery moves and deletes copies itself meanwhile). An object no copy of which verifies is
 * reported, never "repaired" from a bad copy.
 *
 * <p>{@link #check} blocks its caller (an admin thread, never an event loop); the per-object work
 * is asynchronous, {@code parallel} objects at a time, and never blocks the threads it completes on.
 */
public final class Checker {
    private static final Logger log = LoggerFactory.getLogger(Checker.class);

    /** What the check needs of the node it runs on. */
    public interface View {
        List<NodeInfo> members();

        /** The object's replicas in the current epoch. */
        List<NodeInfo> replicas(long oid, int copies);

        /** No member is recovering (false when that cannot be told). */
        boolean recoveryIdle();
    }

    /** One object to check, with the copies of its VDI. */
    public record Target(long oid, int copies) {
    }

    private final PeerTransport peers;
    private final View view;
    private final int parallel;

    public Checker(PeerTransport peers, View view, int parallel) {
        this.peers = peers;
        this.view = view;
        this.parallel = parallel;
    }

    public CheckReport check(int vdis, List<Target> targets) throws InterruptedException {
        List<NodeInfo> members = view.members();
        boolean idle = view.recoveryIdle();
        Run run = new Run(members, idle);
        Semaphore slots = new Semaphore(parallel);
        List<CompletableFuture<Void>> all = new ArrayList<>(targets.size());
        for (Target t : targets) {
            slots.acquire();
            CompletableFuture<Void> f;
            try {
                f = checkOne(run, t);
            } catch (RuntimeException e) {
                f = CompletableFuture.failedFuture(e);
            }
            all.add(f.handle((v, err) -> {
                if (err != null) {
                    run.add(Kind.UNREPAIRABLE, t.oid(), "", "could not check " + ObjectIds.toHex(t.oid()) + ": "
                            + KelpieException.messageOf(err));
                }
                slots.release();
                return null;
            }));
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).join();
        List<Line> lines = new ArrayList<>(run.lines);
        lines.sort(Comparator.comparingLong(Line::oid).thenComparing(Line::node));
        CheckReport r = new CheckReport(vdis, targets.size(), members.size(), run.repaired.get(), run.unrepairable.get(),
                run.removed.get(), run.left.get(), List.copyOf(lines));
        log.info("check: {}", r.summary());
        return r;
    }

    /** The shared state of one check. */
    private static final class Run {
        final List<NodeInfo> members;
        final boolean recoveryIdle;
        final ConcurrentLinkedQueue<Line> lines = new ConcurrentLinkedQueue<>();
        final AtomicLong repaired = new AtomicLong();
        final AtomicLong unrepairable = new AtomicLong();
        final AtomicLong removed = new AtomicLong();
        final AtomicLong left = new AtomicLong();

        Run(List<NodeInfo> members, boolean recoveryIdle) {
            this.members = members;
            this.recoveryIdle = recoveryIdle;
        }

        void add(Kind kind, long oid, String node, String text) {
            lines.add(new Line(kind, oid, node, text));
            (switch (kind) {
                case REPAIRED -> repaired;
                case UNREPAIRABLE -> unrepairable;
                case REMOVED -> removed;
                case EXTRA_LEFT -> left;
            }).incrementAndGet();
            if (kind != Kind.EXTRA_LEFT) {
                log.info("check: {}", text);
            }
        }
    }

    private CompletableFuture<Void> checkOne(Run run, Target t) {
        long oid = t.oid();
        String hex = ObjectIds.toHex(oid);
        List<NodeInfo> ring = view.replicas(oid, t.copies());
        Map<String, String> errors = new ConcurrentHashMap<>();
        return stat(oid, run.members, errors).thenCompose(holders -> {
            ReplicaVerdict v = ReplicaVerdict.decide(oid, ring, holders);
            for (NodeInfo n : v.unanswered()) {
                run.add(Kind.UNREPAIRABLE, oid, n.address(), "could not check " + hex + " on " + n.address() + ": "
                        + errors.getOrDefault(n.address(), "no answer"));
            }
            if (v.lost() != null) {
                run.add(Kind.UNREPAIRABLE, oid, "", "cannot repair " + hex + ": " + v.lost());
                v.extras().forEach(e -> leave(run, oid, e, "no replica is good"));
                return CompletableFuture.completedFuture(null);
            }
            List<CompletableFuture<Boolean>> repairs = new ArrayList<>();
            for (Finding f : v.repairs()) {
                repairs.add(repair(run, v, f));
            }
            return CompletableFuture.allOf(repairs.toArray(new CompletableFuture[0])).thenCompose(x -> {
                boolean allGood = v.unanswered().isEmpty() && repairs.stream().allMatch(CompletableFuture::join);
                List<CompletableFuture<Void>> removals = new ArrayList<>();
                for (Finding e : v.extras()) {
                    if (!allGood) {
                        leave(run, oid, e, "a replica is not good");
                    } else if (!run.recoveryIdle) {
                        leave(run, oid, e, "recovery is running (it removes stale copies itself)");
                    } else {
                        removals.add(remove(run, oid, e));
                    }
                }
                return CompletableFuture.allOf(removals.toArray(new CompletableFuture[0]));
            });
        });
    }

    private static void leave(Run run, long oid, Finding e, String why) {
        run.add(Kind.EXTRA_LEFT, oid, e.node().address(), "left extra copy of " + ObjectIds.toHex(oid) + " on "
                + e.node().address() + " (" + e.detail() + "): " + why);
    }

    /** Asks the replica to repair itself, then confirms; completes with whether it now matches the best. */
    private CompletableFuture<Boolean> repair(Run run, ReplicaVerdict v, Finding f) {
        long oid = v.oid();
        String where = ObjectIds.toHex(oid) + " on " + f.node().address();
        PeerRequest req;
        if (f.problem() == Problem.DIGEST) {
            // Same version, other content: the replica's own rule (take newer copies) sees nothing
            // to do, so it is told which copy to take.
            WireWriter w = new WireWriter(Unpooled.buffer());
            w.string(v.best().address());
            req = PeerRequest.withPayload(PeerConstants.REPAIR_OBJ, PeerConstants.FLAG_FORCE, 0, oid, 0, w.buf());
        } else {
            req = PeerRequest.of(PeerConstants.REPAIR_OBJ, 0, 0, oid, 0, 0);
        }
        return peers.send(f.node().address(), req).thenCompose(resp -> {
            try {
                resp.check();
            } finally {
                resp.release();
            }
            return stat(oid, List.of(f.node()), new ConcurrentHashMap<>());
        }).handle((after, err) -> {
            if (err != null) {
                run.add(Kind.UNREPAIRABLE, oid, f.node().address(), "could not repair " + where + " (" + f.detail() + "): "
                        + KelpieException.messageOf(err));
                return false;
            }
            ObjectMeta m = after.get(0).meta();
            if (!ReplicaVerdict.matches(m, v.bestMeta())) {
                run.add(Kind.UNREPAIRABLE, oid, f.node().address(), "could not repair " + where + " (" + f.detail()
                        + "): still " + (m == null ? "no answer" : describe(m)) + " after repair");
                return false;
            }
            run.add(Kind.REPAIRED, oid, f.node().address(), "repaired " + where + ": " + f.detail());
            return true;
        });
    }

    private CompletableFuture<Void> remove(Run run, long oid, Finding e) {
        // Epoch 0: REMOVE_OBJ is epoch-checked, and this copy belongs to no epoch's placement any more.
        return peers.send(e.node().address(), PeerRequest.of(PeerConstants.REMOVE_OBJ, 0, 0, oid, 0, 0)).handle((resp, err) -> {
            try {
                if (err == null) {
                    resp.check();
                }
            } catch (RuntimeException ex) {
                err = ex;
            } finally {
                if (resp != null) {
                    resp.release();
                }
            }
            if (err != null) {
                leave(run, oid, e, "removing it failed: " + KelpieException.messageOf(err));
            } else {
                run.add(Kind.REMOVED, oid, e.node().address(), "removed extra copy of " + ObjectIds.toHex(oid) + " on "
                        + e.node().address() + ": " + e.detail());
            }
            return null;
        });
    }

    private static String describe(ObjectMeta m) {
        if (!m.exists()) {
            return "missing";
        }
        return String.format("version %d, digest %08x%s", m.version(), m.digest(),
                m.verified() ? "" : ", bad blocks " + m.badBlocks());
    }

    /** Every node's copy of {@code oid} (null meta: no answer, the reason in {@code errors} by address); never fails. */
    private CompletableFuture<List<Holder>> stat(long oid, List<NodeInfo> nodes, Map<String, String> errors) {
        List<CompletableFuture<Holder>> all = new ArrayList<>(nodes.size());
        for (NodeInfo n : nodes) {
            PeerRequest req = PeerRequest.of(PeerConstants.STAT_OBJ, PeerConstants.FLAG_VERIFY, 0, oid, 0, 0);
            CompletableFuture<PeerResponse> sent;
            try {
                sent = peers.send(n.address(), req);
            } catch (RuntimeException e) {
                sent = CompletableFuture.failedFuture(e);
            }
            all.add(sent.handle((resp, err) -> {
                if (err != null) {
                    errors.put(n.address(), "no answer (" + KelpieException.messageOf(err) + ")");
                    return new Holder(n, null);
                }
                try {
                    if (!resp.ok()) {
                        errors.put(n.address(), "it answered " + resp.status() + ": " + resp.errorMessage());
                        return new Holder(n, null);
                    }
                    return new Holder(n, ObjectMessages.readStat(new WireReader(resp.payload().duplicate())));
                } finally {
                    resp.release();
                }
            }));
        }
        return CompletableFuture.allOf(all.toArray(new CompletableFuture[0]))
                .thenApply(v -> all.stream().map(CompletableFuture::join).toList());
    }
}
