package io.kelpie.gateway;

import io.kelpie.peer.PeerTransport;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * A transport decorator that misbehaves per node, like nbdkit's delay and error filters: delay
 * requests, drop them (no answer: they time out, as on a paused node or a dead host), partition
 * (refused at once, as a killed node's port), or answer with an error status. Each fault may be
 * limited to some opcodes. {@link #heal} removes them.
 */
final class FaultyTransport implements PeerTransport {
    private enum Kind { DELAY, DROP, PARTITION, FAIL }

    private record Fault(Kind kind, long millis, Status status, IntPredicate opcodes) {
    }

    private final PeerTransport inner;
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();

    FaultyTransport(PeerTransport inner) {
        this.inner = inner;
    }

    FaultyTransport delay(String address, long millis) {
        faults.put(address, new Fault(Kind.DELAY, millis, null, op -> true));
        return this;
    }

    FaultyTransport drop(String address) {
        faults.put(address, new Fault(Kind.DROP, 0, null, op -> true));
        return this;
    }

    FaultyTransport partition(String address) {
        faults.put(address, new Fault(Kind.PARTITION, 0, null, op -> true));
        return this;
    }

    /** Answers the given opcodes with {@code status}; others pass. */
    FaultyTransport fail(String address, Status status, int... opcodes) {
        faults.put(address, new Fault(Kind.FAIL, 0, status, op -> {
            for (int o : opcodes) {
                if (o == op) {
                    return true;
                }
            }
            return false;
        }));
        return this;
    }

    FaultyTransport heal(String address) {
        faults.remove(address);
        return this;
    }

    @Override
    public CompletableFuture<PeerResponse> send(String address, PeerRequest req, Duration timeout) {
        Fault f = faults.get(address);
        if (f == null || !f.opcodes().test(req.opcode())) {
            return inner.send(address, req, timeout);
        }
        String op = PeerConstants.opcodeName(req.opcode());
        switch (f.kind()) {
            case DELAY -> {
                CompletableFuture<PeerResponse> out = new CompletableFuture<>();
                CompletableFuture.delayedExecutor(f.millis(), TimeUnit.MILLISECONDS).execute(() ->
                        inner.send(address, req, timeout).whenComplete((r, e) -> {
                            if (e != null) {
                                out.completeExceptionally(e);
                            } else if (!out.complete(r)) {
                                r.release();
                            }
                        }));
                // The caller's timeout still applies, as with a real connection.
                CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() ->
                        out.completeExceptionally(timedOut(address, op, timeout)));
                return out;
            }
            case DROP -> {
                req.release();
                CompletableFuture<PeerResponse> out = new CompletableFuture<>();
                CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() ->
                        out.completeExceptionally(timedOut(address, op, timeout)));
                return out;
            }
            case PARTITION -> {
                req.release();
                return CompletableFuture.failedFuture(new KelpieException(Status.IO_ERROR,
                        "cannot connect to node at " + address + ": Connection refused"));
            }
            default -> {
                PeerResponse r = PeerResponse.error(req, req.epoch(), f.status(), "injected " + f.status() + " for " + op);
                req.release();
                return CompletableFuture.completedFuture(r);
            }
        }
    }

    private static KelpieException timedOut(String address, String op, Duration timeout) {
        return new KelpieException(Status.IO_ERROR, "node " + address + ": " + op + " timed out after "
                + timeout.toMillis() + " ms");
    }
}
