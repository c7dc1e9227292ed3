package io.kelpie.vdi;

import io.kelpie.common.ObjectIds;
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
import java.util.function.IntConsumer;
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
 */
final class Reclaimer {
    private static final Logger log = LoggerFactory.getLogger(Reclaimer.class);

    private final Gateway gateway;
    private final InodeObjects inodes;
    private final Supplier<List<Inode>> catalogue;
    private final IntConsumer release;

    /**
     * @param catalogue every inode, placeholders included
     * @param release   orders the release of a placeholder whose objects are all gone
     */
    Reclaimer(Gateway gateway, InodeObjects inodes, Supplier<List<Inode>> catalogue, IntConsumer release) {
        this.gateway = gateway;
        this.inodes = inodes;
        this.catalogue = catalogue;
        this.release = release;
    }

    /** After {@code dead} was deleted (it is a placeholder in the catalogue): frees what nobody needs now. */
    void reclaim(Inode dead) {
        Map<Integer, Inode> byVid = new HashMap<>();
        Map<Integer, List<Inode>> children = new HashMap<>();
        for (Inode in : catalogue.get()) {
            byVid.put(in.vdiId(), in);
            children.computeIfAbsent(in.parentVdiId(), k -> new ArrayList<>()).add(in);
        }
        Map<Integer, int[]> tables = new HashMap<>();
        Inode p = byVid.get(dead.vdiId());
        while (p != null && p.deleted()) {
            reclaimOne(p, children, tables);
            p = p.parentVdiId() == 0 ? null : byVid.get(p.parentVdiId());
        }
    }

    private void reclaimOne(Inode p, Map<Integer, List<Inode>> children, Map<Integer, int[]> tables) {
        int vid = p.vdiId();
        List<Inode> live = liveDescendants(p, children);
        int[] own = inodes.loadEntries(p);
        BitSet needed = new BitSet(own.length);
        for (Inode d : live) {
            int[] t = tables.computeIfAbsent(d.vdiId(), k -> inodes.loadEntries(d));
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
            release.accept(vid);
            log.info("deleted VDI {} (id {}): {} object(s) freed", p.displayName(), Integer.toHexString(vid), removals.size());
            return;
        }
        if (!removals.isEmpty()) {
            inodes.writeTable(p, left); // what is gone is not removed twice, nor counted as used
        }
        log.info("deleted VDI {} (id {}): {} object(s) freed, {} kept for {} VDI(s) that read them", p.displayName(),
                Integer.toHexString(vid), removals.size(), needed.cardinality(), live.size());
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
