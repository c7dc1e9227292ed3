package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.gateway.Gateway;
import io.netty.buffer.ByteBufAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open {@link Vdi} handles of this node, one per VDI and shared by all local clients, and
 * the cluster-wide claim each one holds. A VDI's gate serializes only its own first open and
 * last close; no other lock is held across I/O or a cluster round trip.
 */
final class VdiHandles {
    private static final Logger log = LoggerFactory.getLogger(VdiHandles.class);

    private final VdiManager manager;
    private final Catalogue catalogue;
    private final NewInodes newInodes;
    private final InodeObjects inodeObjects;
    private final Gateway gateway;
    private final ByteBufAllocator alloc;
    private final Map<Integer, Vdi> open = new ConcurrentHashMap<>();
    private final Map<Integer, Object> gates = new ConcurrentHashMap<>();
    private volatile boolean closed;

    VdiHandles(VdiManager manager, Catalogue catalogue, NewInodes newInodes, InodeObjects inodeObjects,
               Gateway gateway, ByteBufAllocator alloc) {
        this.manager = manager;
        this.catalogue = catalogue;
        this.newInodes = newInodes;
        this.inodeObjects = inodeObjects;
        this.gateway = gateway;
        this.alloc = alloc;
    }

    /** Catalogue listener: a changed header reaches the open handle. */
    void changed(Inode in) {
        Vdi vdi = open.get(in.vdiId());
        if (vdi != null) {
            vdi.updateInode(in);
        }
    }

    /** Catalogue listener: a snapshot, whose paused handle goes on as the new working VDI (see {@link Lineages#snapshot}). */
    void moved(int fromVid, Inode to) {
        Vdi vdi = open.remove(fromVid);
        if (vdi != null) {
            vdi.updateInode(to);
            open.put(to.vdiId(), vdi);
        }
    }

    /** This node's handle of VDI {@code vid}, or null. */
    Vdi get(int vid) {
        return open.get(vid);
    }

    /** See {@link VdiManager#open}. */
    Vdi open(String exportName, long graceMillis) {
        long deadline = System.nanoTime() + graceMillis * 1_000_000;
        for (int attempt = 1; ; attempt++) {
            try {
                return openOnce(exportName);
            } catch (KelpieException e) {
                // Its holder may be letting go: a client that left it there a moment ago and came here,
                // whose unlock is ordered a moment after its disconnect. Bounded: the holder may re-take it.
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (e.status() != Status.VDI_LOCKED || left <= 0 || attempt == 5
                        || !catalogue.awaitFree(manager.find(exportName).vdiId(), manager.self(), left)) {
                    throw e;
                }
            }
        }
    }

    private Vdi openOnce(String exportName) {
        Inode in = manager.find(exportName);
        int vid = in.vdiId();
        synchronized (gate(vid)) {
            Vdi shared = open.get(vid);
            if (shared != null) {
                shared.refs.incrementAndGet();
                return shared;
            }
            // A writable VDI: this node becomes its only writer. A snapshot: one of its readers (any
            // number of nodes may read it), so that nobody deletes it under this node's feet.
            boolean claim = !in.isSnapshot();
            manager.order(CatalogueOp.lock(exportName, vid, manager.self()));
            try {
                // Loaded after the claim: the table now holds every allocation the last holder made.
                Inode now = catalogue.byId(vid);
                if (claim && (now == null || now.isSnapshot() || now.deleted())) {
                    // A snapshot (or delete) was ordered between the lookup and the claim: look again.
                    unlock(vid);
                    return openOnce(exportName);
                }
                if (claim) {
                    newInodes.repairIfUnsealed(now); // its writer died before sealing it: only the claimant repairs
                }
                InodeTable table = inodeObjects.loadTable(in);
                Vdi vdi = new Vdi(manager, gateway, alloc, now != null ? now : in, table);
                vdi.refs.incrementAndGet();
                open.put(vid, vdi);
                return vdi;
            } catch (RuntimeException e) {
                unlock(vid);
                throw e;
            }
        }
    }

    Object gate(int vid) {
        return gates.computeIfAbsent(vid, k -> new Object());
    }

    void unlock(int vid) {
        try {
            manager.order(CatalogueOp.unlock(vid, manager.self()));
        } catch (RuntimeException e) {
            // Dropped anyway when this node leaves the cluster.
            log.warn("releasing the lock on VDI {} failed: {}", Integer.toHexString(vid), KelpieException.messageOf(e));
        }
    }

    /** Drops one reference; the last one closes the handle and gives up this node's claim. Blocks. */
    void release(Vdi vdi) {
        int vid = vdi.inode().vdiId();
        synchronized (gate(vid)) {
            if (vdi.refs.decrementAndGet() != 0) {
                return;
            }
            open.remove(vid, vdi);
            vdi.table().close();
            if (!closed) {
                unlock(vid);
            }
        }
    }

    /** Closes every handle without giving up claims: a replaced catalogue (format) or a stopping node. */
    void closeAll() {
        closed = true;
        for (Vdi v : open.values()) {
            synchronized (gate(v.inode().vdiId())) {
                if (open.remove(v.inode().vdiId(), v)) {
                    v.table().close();
                }
            }
        }
    }
}
