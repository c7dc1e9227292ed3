package io.kelpie.peer.ops;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.kelpie.vdi.Vdi;
import io.netty.buffer.Unpooled;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * VDI_HOLD: an admin client keeps a VDI open on this node between its requests (a restore from
 * its first write to its snapshot), so that no other node can claim it in a gap between two
 * chunks. The VDI_WRITEs of the same node share the held handle. A hold is a lease: the client
 * renews it, and one it forgets (a CLI killed mid-way) lets go by itself when the lease runs out.
 * One per node: its state lives in the op bound for that node (see {@link PeerOps#all}).
 */
final class VdiHolds {
    private static final Logger log = LoggerFactory.getLogger(VdiHolds.class);
    /** Longest lease a client may ask for: a forgotten hold must not block a VDI for long. */
    static final int MAX_LEASE_MS = 60_000;

    private final Map<Long, Held> held = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong(System.nanoTime() & 0x7fff_ffff_ffffL);

    private static final class Held {
        final Vdi vdi;
        volatile long expiresAt;

        Held(Vdi vdi, long expiresAt) {
            this.vdi = vdi;
            this.expiresAt = expiresAt;
        }
    }

    /**
     * VDI_HOLD(name, i32 lease ms; offset = token) -> u64 token. Token 0 opens the VDI (claiming it,
     * or refused with VDI_LOCKED as any open is, and also while clients of this node have it open)
     * and holds it for the lease; a known token with a
     * lease renews it, with lease 0 releases it (the claim is given up before the answer).
     */
    PeerOp<VdiService> op() {
        return (service, req, ex) -> Blocking.on(ex, () -> {
            WireReader r = new WireReader(req.payload().duplicate());
            String name = r.string();
            int lease = r.i32();
            if (lease < 0 || lease > MAX_LEASE_MS) {
                throw new KelpieException(Status.INVALID, "a hold's lease is 0.." + MAX_LEASE_MS + " ms, not " + lease);
            }
            long token = req.offset();
            if (token == 0) {
                if (lease == 0) {
                    throw new KelpieException(Status.INVALID, "a new hold needs a lease");
                }
                Vdi vdi = service.vdis().open(name);
                int others = vdi.clients() - 1;
                if (others > 0) {
                    // they would write under the holder's feet (and keep a rollback from undoing it)
                    vdi.close();
                    throw new KelpieException(Status.VDI_LOCKED, "VDI '" + name + "' is in use by " + others
                            + " client(s) on node " + service.self().substring(service.self().indexOf('@') + 1)
                            + "; disconnect them first");
                }
                token = tokens.incrementAndGet();
                Held h = new Held(vdi, System.currentTimeMillis() + lease);
                held.put(token, h);
                expireLater(token, h, lease, ex);
            } else {
                Held h = lease == 0 ? held.remove(token) : held.get(token);
                if (h == null) {
                    throw new KelpieException(Status.INVALID, "no hold " + token + " of VDI '" + name + "' on this node (its lease ran out)");
                }
                if (lease == 0) {
                    h.vdi.close();
                } else {
                    h.expiresAt = System.currentTimeMillis() + lease;
                }
            }
            return new WireWriter(Unpooled.buffer(8)).i64(token).buf();
        });
    }

    private void expireLater(long token, Held h, long delayMs, Executor ex) {
        Executor later = CompletableFuture.delayedExecutor(Math.max(1, delayMs), TimeUnit.MILLISECONDS, ex);
        try {
            later.execute(() -> {
                long left = h.expiresAt - System.currentTimeMillis();
                if (left > 0) {
                    expireLater(token, h, left, ex);
                } else if (held.remove(token, h)) {
                    log.warn("hold {} of VDI {} was not renewed; released", token, h.vdi.name());
                    h.vdi.close();
                }
            });
        } catch (RejectedExecutionException e) {
            // the node is stopping: its handles go with it
        }
    }
}
