package io.kelpie.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The "network" of {@link LocalDriver}s in one JVM. Every multicast is handed to every endpoint
 * of the sender's view under one lock, so all see the same order; views change under the same
 * lock, so they are ordered with the messages too. Deterministic, instant, for tests.
 *
 * <p>Faults, as a real network would produce them: {@link #partition} splits the endpoints into
 * sides that each see a view of their own (JGroups after failure detection), {@link #heal} merges
 * them into one view again (JGroups' MERGE3). {@link #pause} is a stopped process (SIGSTOP): the
 * others' views drop it at once, it receives nothing and what it sends is held; {@link #resume}
 * brings it back into its side's view and then sends what it held.
 */
public final class LocalHub {
    private final List<Endpoint> connected = new ArrayList<>();
    private final Map<Endpoint, Integer> sides = new HashMap<>();
    private final Set<Endpoint> paused = new HashSet<>();
    private final Map<Endpoint, List<Runnable>> held = new HashMap<>();
    private final Map<Endpoint, List<Object>> announced = new HashMap<>();
    private final AtomicInteger names = new AtomicInteger();
    private volatile boolean dropUnicasts;

    /** Fault injection: while set, every unicast (snapshots, refusals) is lost. */
    public void dropUnicasts(boolean drop) {
        dropUnicasts = drop;
    }

    /** A new driver attached to this hub; it connects when it joins. */
    public LocalDriver newDriver() {
        return new LocalDriver(new Endpoint("local-" + names.incrementAndGet()));
    }

    public synchronized int size() {
        return connected.size();
    }

    /**
     * Splits the network: each list is one side; drivers not named (and drivers that connect
     * later) are on the first side.
     */
    public synchronized void partition(List<List<LocalDriver>> split) {
        sides.clear();
        for (int i = 0; i < split.size(); i++) {
            for (LocalDriver d : split.get(i)) {
                sides.put(d.endpoint, i);
            }
        }
        announce();
    }

    /** One network again: every side's view merges into one. */
    public synchronized void heal() {
        sides.clear();
        announce();
    }

    /**
     * The drivers' processes stop, all at once: out of every view (as failure detection would
     * find), deaf, and their sends held until they resume.
     */
    public synchronized void pause(List<LocalDriver> drivers) {
        boolean changed = false;
        for (LocalDriver d : drivers) {
            changed |= paused.add(d.endpoint);
        }
        if (changed) {
            announce();
        }
    }

    /** The drivers continue, all at once: back in their side's view, then what they held is sent. */
    public synchronized void resume(List<LocalDriver> drivers) {
        List<LocalDriver> back = drivers.stream().filter(d -> paused.remove(d.endpoint)).toList();
        if (back.isEmpty()) {
            return;
        }
        announce();
        for (LocalDriver d : back) {
            List<Runnable> sends = held.remove(d.endpoint);
            if (sends != null) {
                sends.forEach(Runnable::run);
            }
        }
    }

    synchronized void connect(Endpoint e) {
        connected.add(e);
        announce();
    }

    synchronized void disconnect(Endpoint e) {
        if (connected.remove(e)) {
            paused.remove(e);
            held.remove(e);
            announced.remove(e);
            sides.remove(e);
            announce();
        }
    }

    /** What {@code e} sees: the live endpoints of its side, in connection order. */
    synchronized List<Object> viewOf(Endpoint e) {
        if (paused.contains(e)) {
            List<Object> last = announced.get(e);
            return last != null ? last : List.of(e.name);
        }
        int side = sides.getOrDefault(e, 0);
        List<Object> v = new ArrayList<>();
        for (Endpoint x : connected) {
            if (!paused.contains(x) && sides.getOrDefault(x, 0) == side) {
                v.add(x.name);
            }
        }
        return v;
    }

    private List<Endpoint> reachableFrom(Endpoint e) {
        int side = sides.getOrDefault(e, 0);
        List<Endpoint> out = new ArrayList<>();
        for (Endpoint x : connected) {
            if (!paused.contains(x) && sides.getOrDefault(x, 0) == side) {
                out.add(x);
            }
        }
        return out;
    }

    synchronized void multicast(Endpoint from, byte[] message) {
        if (!connected.contains(from)) {
            return;
        }
        if (paused.contains(from)) {
            held.computeIfAbsent(from, k -> new ArrayList<>()).add(() -> multicast(from, message));
            return;
        }
        for (Endpoint e : reachableFrom(from)) {
            e.handler.ordered(from.name, message);
        }
    }

    synchronized void unicast(Endpoint from, Object to, byte[] message) {
        if (!connected.contains(from) || dropUnicasts) {
            return;
        }
        if (paused.contains(from)) {
            held.computeIfAbsent(from, k -> new ArrayList<>()).add(() -> unicast(from, to, message));
            return;
        }
        for (Endpoint e : reachableFrom(from)) {
            if (e.name.equals(to)) {
                e.handler.unicast(from.name, message);
            }
        }
    }

    /** Tells every live endpoint whose view changed its new view. */
    private void announce() {
        for (Endpoint e : connected) {
            if (paused.contains(e)) {
                continue;
            }
            List<Object> v = viewOf(e);
            if (!v.equals(announced.get(e))) {
                announced.put(e, v);
                e.handler.view(v);
            }
        }
    }

    /** One driver's end of the hub. */
    final class Endpoint implements Transport {
        final String name;
        volatile Handler handler;

        Endpoint(String name) {
            this.name = name;
        }

        @Override
        public void start(Handler h) {
            handler = h;
            connect(this);
        }

        @Override
        public Object self() {
            return name;
        }

        @Override
        public List<Object> view() {
            return viewOf(this);
        }

        @Override
        public void multicast(byte[] message) {
            LocalHub.this.multicast(this, message);
        }

        @Override
        public void unicast(Object to, byte[] message) {
            LocalHub.this.unicast(this, to, message);
        }

        @Override
        public void writeAddress(Object address, java.io.DataOutput out) throws java.io.IOException {
            out.writeUTF((String) address);
        }

        @Override
        public Object readAddress(java.io.DataInput in) throws java.io.IOException {
            return in.readUTF();
        }

        @Override
        public void close() {
            disconnect(this);
        }
    }
}
