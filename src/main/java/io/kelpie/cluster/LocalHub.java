package io.kelpie.cluster;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The "network" of {@link LocalDriver}s in one JVM. Every multicast is handed to every connected
 * endpoint under one lock, so all see the same order; views change under the same lock, so they
 * are ordered with the messages too. Deterministic, instant, for tests.
 */
public final class LocalHub {
    private final List<Endpoint> view = new ArrayList<>();
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
        return view.size();
    }

    synchronized void connect(Endpoint e) {
        view.add(e);
        announce();
    }

    synchronized void disconnect(Endpoint e) {
        if (view.remove(e)) {
            announce();
        }
    }

    synchronized List<Object> viewOf() {
        List<Object> v = new ArrayList<>();
        view.forEach(e -> v.add(e.name));
        return v;
    }

    synchronized void multicast(Endpoint from, byte[] message) {
        if (!view.contains(from)) {
            return;
        }
        for (Endpoint e : view) {
            e.handler.ordered(from.name, message);
        }
    }

    synchronized void unicast(Endpoint from, Object to, byte[] message) {
        if (!view.contains(from) || dropUnicasts) {
            return;
        }
        for (Endpoint e : view) {
            if (e.name.equals(to)) {
                e.handler.unicast(from.name, message);
            }
        }
    }

    private void announce() {
        List<Object> v = viewOf();
        for (Endpoint e : view) {
            e.handler.view(v);
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
            return viewOf();
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
