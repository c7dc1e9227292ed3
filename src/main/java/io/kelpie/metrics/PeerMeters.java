package io.kelpie.metrics;

import io.kelpie.peer.PeerConstants;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Requests the peer server served, by opcode (object ops from other nodes, admin ops from the
 * CLI). As for NBD, an opcode's counters are registered on its first request and kept by opcode.
 */
final class PeerMeters implements PeerRecorder {
    private final MeterRegistry registry;
    private final AtomicReferenceArray<Op> byOpcode = new AtomicReferenceArray<>(256);

    PeerMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void request(int opcode, boolean ok) {
        if (opcode < 0 || opcode >= 256) {
            return;
        }
        Op m = byOpcode.get(opcode);
        if (m == null) {
            m = first(opcode);
        }
        m.requests.increment();
        if (!ok) {
            m.errors.increment();
        }
    }

    private synchronized Op first(int opcode) {
        Op m = byOpcode.get(opcode);
        if (m == null) {
            m = new Op(registry, PeerConstants.opcodeName(opcode).toLowerCase(Locale.ROOT));
            byOpcode.set(opcode, m);
        }
        return m;
    }

    private static final class Op {
        final Counter requests;
        final Counter errors;

        Op(MeterRegistry r, String op) {
            requests = Counter.builder("kelpie.peer.requests").description("Peer and admin requests served, errors included")
                    .tag("op", op).register(r);
            errors = Counter.builder("kelpie.peer.errors").description("Peer and admin requests answered with an error")
                    .tag("op", op).register(r);
        }
    }
}
