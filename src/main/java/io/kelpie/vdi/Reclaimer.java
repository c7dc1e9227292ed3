package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.ObjectIds;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Frees what deleted VDIs and snapshots no longer need. A deleted inode stays in the catalogue as a
 * placeholder (as Sheepdog keeps deleted inodes) while a live descendant still reads some of its
 * objects: a live VDI reads object {@code i} of placeholder {@code p} exactly when its own table
 * says {@code table[i] == p}, since tables are copied down and only ever change to the VDI's own id
 * or 0. So a placeholder's object is removed once no live descendant's table names it, and the
 * placeholder itself (inode object, catalogue entry, id) once it has no live descendant left.
 *
 * <p>A child's references to an ancestor are a subset of its parent's (the parent is a frozen
 * snapshot whose table the child copied), so a delete can only change what the deleted inode and
 * its deleted ancestors up to the first live one need; nothing else is looked at. Blocking.
 *
 * <p>One node at a time reclaims a placeholder: it claims it in cluster order first (RECLAIM) and
 * only then reads the catalogue and the tables it decides by, so nobody frees by a stale view (a
 * released id may already name a new VDI). A claim dies with its node; what a crash interrupted
 * is finished by {@link #resumeAll}, which a node runs when it starts serving.
 */
final class Reclaimer {
    private static final Logger log = LoggerFactory.getLogger(Reclaimer.class);
    /** How long a delete waits for another node's reclaim of the same placeholder before it leaves it to a resume. */
    static final long CLAIM_WAIT_MILLIS = 5 * 60_000;

    /** What the reclaimer needs of the node's VDIs. */
    interface Host {
        /** Every inode, placeholders included. */
        List<Inode> all();

        /** The placeholders whose reclaim has not finished (their delete was interrupted, or is running). */
        List<Integer> reclaiming();

        /** Orders a catalogue change; returns what applying it returned here. */
        Object order(CatalogueOp op);

        String self();

        /** The table a live VDI reads by (an unsealed one's is its parent's); fails rather than read a lost one as empty. */
        int[] entriesAsRead(Inode live);
    }

    /** The {@link Host} of a node's VDIs. */
    static Host host(Catalogue catalogue, Function<CatalogueOp, Object> order, Supplier<String> self,
                     Function<Inode, int[]> entriesAsRead) {
        return new Host() {
            @Override
            public List<Inode> all() {
                return catalogue.all();
            }

            @Override
            public List<Integer> reclaiming() {
                return catalogue.reclaiming();
            }

            @Override
            public Object order(CatalogueOp op) {
                return order.apply(op);
            }

            @Override
            public String self() {
                return self.get();
            }

            @Override
            public int[] entriesAsRead(Inode live) {
                return entriesAsRead.apply(live);
            }
        };
    }

    private final Gateway gateway;
    private final InodeObjects inodes;
    private final Host host;
    /** The placeholders a thread of this node is reclaiming (claimed, or claiming). */
    private final java.util.Set<Integer> local = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Reclaimer(Gateway gateway, InodeObjects inodes, Host host) {
        this.gateway = gateway;
        this.inodes = inodes;
        this.host = host;
    }

    /** After {@code dead} was deleted (it is a placeholder in the catalogue): frees what nobody needs now. */
    void reclaim(Inode dead) {
        int vid = dead.vdiId();
        while (vid != 0 && isPlaceholder(byId(vid))) {
            // Null: not a placeholder any more. Live ends the walk; released means a reclaim that
            // began after this delete freed it, and walked on up itself.
            Inode p = claim(vid, CLAIM_WAIT_MILLIS);
            if (p == null) {
                return;
            }
            vid = p.parentVdiId();
            reclaimClaimed(p, true);
        }
    }

    /**
     * Finishes every reclaim that a crash (or a failure) interrupted: each placeholder still pending
     * and not claimed by another node (whose delete is at it) is reclaimed again, which frees what
     * it still holds and nobody reads. Returns how many placeholders were released; fails (after
     * trying every one) if any could not be claimed or reclaimed, to be tried again.
     */
    int resumeAll() {
        int released = 0;
        RuntimeException failed = null;
        for (int vid : host.reclaiming()) {
            try {
                Inode p = claim(vid, 0);
                if (p != null && reclaimClaimed(p, false)) {
                    released++;
                }
            } catch (RuntimeException e) {
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
        return released;
    }

    /**
     * Claims placeholder {@code vid}, waiting up to {@code waitMillis} while another node holds it;
     * returns its header as the catalogue has it after the claim, or null (no placeholder, or still
     * claimed by another node). Fails when the claim could not be ordered (the cluster not serving).
     */
    private Inode claim(int vid, long waitMillis) {
        long deadline = System.currentTimeMillis() + waitMillis;
        while (true) {
            // The cluster's claim is per node: two threads of this node (two deletes, a resume)
            // take turns here first.
            if (local.add(vid)) {
                try {
                    host.order(CatalogueOp.reclaim(vid, host.self()));
                    Inode p = byId(vid);
                    if (p == null) {
                        local.remove(vid);
                    }
                    return p;
                } catch (KelpieException e) {
                    local.remove(vid);
                    if (e.status() == Status.NO_VDI) {
                        return null;
                    }
                    if (e.status() != Status.VDI_LOCKED) {
                        throw e;
                    }
                } catch (RuntimeException e) {
                    local.remove(vid);
                    throw e;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                log.info("leaving deleted VDI {} to the reclaim that holds it", Integer.toHexString(vid));
                return null;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    private static boolean isPlaceholder(Inode in) {
        return in != null && in.deleted();
    }

    private Inode byId(int vid) {
        return host.all().stream().filter(in -> in.vdiId() == vid).findFirst().orElse(null);
    }

    /**
     * Reclaims a claimed placeholder and gives the claim up (as done when what is left is what live
     * VDIs read; still pending when it failed); returns whether the placeholder is gone.
     * {@code report}: log what is kept even when nothing was freed (a delete, not a resume).
     */
    private boolean reclaimClaimed(Inode p, boolean report) {
        try {
            boolean released;
            try {
                released = reclaimOne(p, report);
            } catch (RuntimeException e) {
                endClaim(CatalogueOp.unlock(p.vdiId(), host.self())); // still pending: a resume tries again
                throw e;
            }
            if (!released) { // a release ends the claim and the pending mark itself
                endClaim(CatalogueOp.reclaimed(p.vdiId(), host.self()));
            }
            return released;
        } finally {
            local.remove(p.vdiId());
        }
    }

    private void endClaim(CatalogueOp op) {
        try {
            host.order(op);
        } catch (RuntimeException e) {
            log.warn("ending the reclaim claim on {} failed: {}", Integer.toHexString(op.vid()), KelpieException.messageOf(e));
        }
    }

    private boolean reclaimOne(Inode p, boolean report) {
        Map<Integer, List<Inode>> children = new HashMap<>();
        for (Inode in : host.all()) {
            children.computeIfAbsent(in.parentVdiId(), k -> new ArrayList<>()).add(in);
        }
        int vid = p.vdiId();
        List<Inode> live = liveDescendants(p, children);
        int[] own = inodes.loadEntries(p);
        BitSet needed = new BitSet(own.length);
        for (Inode d : live) {
            int[] t = host.entriesAsRead(d);
            for (int i = 0; i < Math.min(t.length, own.length); i++) {
                if (t[i] == vid) {
                    needed.set(i);
                }
            }
        }
        List<CompletableFuture<Void>> removals = new ArrayList<>();
        int[] left = own.clone();
        for (int i = 0; i < own.length; i++) {
            if (own[i] == vid && !needed.get(i)) {
                removals.add(gateway.remove(ObjectIds.dataOid(vid, i), p.copies()));
                left[i] = 0;
            }
        }
        InodeObjects.join(CompletableFuture.allOf(removals.toArray(new CompletableFuture[0])));
        if (live.isEmpty()) {
            InodeObjects.join(gateway.remove(p.inodeOid(), p.copies()));
            host.order(CatalogueOp.release(vid));
            log.info("deleted VDI {} (id {}): {} object(s) freed", p.displayName(), Integer.toHexString(vid), removals.size());
            return true;
        }
        if (!removals.isEmpty()) {
            inodes.writeTable(p, left); // what is gone is not removed twice, nor counted as used
        }
        if (report || !removals.isEmpty()) {
            log.info("deleted VDI {} (id {}): {} object(s) freed, {} kept for {} VDI(s) that read them", p.displayName(),
                    Integer.toHexString(vid), removals.size(), needed.cardinality(), live.size());
        }
        return false;
    }

    private static List<Inode> liveDescendants(Inode p, Map<Integer, List<Inode>> children) {
        List<Inode> out = new ArrayList<>();
        Deque<Inode> todo = new ArrayDeque<>(children.getOrDefault(p.vdiId(), List.of()));
        while (!todo.isEmpty()) {
            Inode d = todo.pop();
            if (!d.deleted()) {
                out.add(d);
            }
            todo.addAll(children.getOrDefault(d.vdiId(), List.of()));
        }
        return out;
    }
}
