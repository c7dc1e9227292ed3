package io.kelpie.metrics;

import io.kelpie.nbd.NbdConstants;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One export's meters, by NBD command. A command's meters are registered on its first request and
 * kept in an array indexed by the command type, so a VDI that is only read and written costs no
 * series for trims, and every later request records with primitives into meters already there.
 */
final class VdiMeters implements VdiRecorder {
    /** NBD_CMD_READ .. NBD_CMD_BLOCK_STATUS. */
    private static final int COMMANDS = NbdConstants.NBD_CMD_BLOCK_STATUS + 1;
    /**
     * Latency buckets, 50 us to 10 s: a page-cache read on the event loop to a request that waited
     * out the 5 s client bound. 17 buckets keep a command at 24 series.
     */
    static final Duration[] BUCKETS = micros(50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000,
            100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000);

    private final MeterRegistry registry;
    private final String export;
    private final AtomicReferenceArray<Command> byCommand = new AtomicReferenceArray<>(COMMANDS);
    private volatile boolean removed;

    VdiMeters(MeterRegistry registry, String export) {
        this.registry = registry;
        this.export = export;
    }

    @Override
    public void request(int command, long bytes, long nanos, boolean ok) {
        if (command < 0 || command >= COMMANDS) {
            return;
        }
        Command m = byCommand.get(command);
        if (m == null) {
            m = first(command);
            if (m == null) {
                return; // the export was deleted meanwhile
            }
        }
        m.requests.increment();
        if (!ok) {
            m.errors.increment();
        } else if (m.bytes != null && bytes > 0) {
            m.bytes.increment(bytes);
        }
        m.latency.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Registers a command's meters once; two connections racing get the registry's same meters. */
    private synchronized Command first(int command) {
        Command m = byCommand.get(command);
        if (m == null && !removed) {
            m = new Command(registry, export, command);
            byCommand.set(command, m);
        }
        return m;
    }

    /** The export was deleted: its series leave the registry. */
    synchronized void remove() {
        removed = true;
        for (int i = 0; i < COMMANDS; i++) {
            Command m = byCommand.getAndSet(i, null);
            if (m != null) {
                m.remove(registry);
            }
        }
    }

    static String commandLabel(int command) {
        return NbdConstants.commandName(command).substring("NBD_CMD_".length()).toLowerCase(Locale.ROOT);
    }

    private static Duration[] micros(long... us) {
        Duration[] d = new Duration[us.length];
        for (int i = 0; i < us.length; i++) {
            d[i] = Duration.ofNanos(us[i] * 1000);
        }
        return d;
    }

    /** The meters of one (export, command); final fields, so a racy read of the array sees them whole. */
    private static final class Command {
        final Counter requests;
        final Counter errors;
        final Counter bytes; // null for FLUSH, which covers no range
        final Timer latency;

        Command(MeterRegistry r, String export, int command) {
            String c = commandLabel(command);
            requests = Counter.builder("kelpie.nbd.requests").description("NBD requests served, errors included")
                    .tags("vdi", export, "command", c).register(r);
            errors = Counter.builder("kelpie.nbd.errors").description("NBD requests answered with an error")
                    .tags("vdi", export, "command", c).register(r);
            bytes = command == NbdConstants.NBD_CMD_FLUSH ? null
                    : Counter.builder("kelpie.nbd").baseUnit("bytes")
                    .description("Bytes of the NBD requests that succeeded (read, written, zeroed, trimmed, cached, queried)")
                    .tags("vdi", export, "command", c).register(r);
            latency = Timer.builder("kelpie.nbd.request").description("NBD request latency, arrival to reply")
                    .tags("vdi", export, "command", c).serviceLevelObjectives(BUCKETS).register(r);
        }

        void remove(MeterRegistry r) {
            for (Meter m : new Meter[] {requests, errors, bytes, latency}) {
                if (m != null) {
                    r.remove(m);
                }
            }
        }
    }
}
