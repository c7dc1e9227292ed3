package io.kelpie.cluster;

import io.kelpie.config.ClusterConfig;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** An application that records every operation applied, in order; its state is that list. */
final class RecordingApp implements ClusterManager.Application {
    final List<String> applied = new ArrayList<>();
    final List<Long> epochs = new ArrayList<>();
    volatile ClusterConfig formatted;

    @Override
    public void formatted(ClusterConfig config, boolean fresh) {
        formatted = config;
        synchronized (this) {
            applied.clear();
        }
    }

    @Override
    public synchronized void epochChanged(Epoch epoch, Ring ring, List<Epoch> unseen) {
        epochs.add(epoch.number());
    }

    @Override
    public synchronized Object apply(NodeInfo sender, byte[] op) {
        String s = new String(op, StandardCharsets.UTF_8);
        if (s.startsWith("fail")) {
            throw new IllegalStateException("refused " + s);
        }
        applied.add(s);
        return applied.size();
    }

    @Override
    public synchronized byte[] snapshot() {
        return String.join("\n", applied).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void restore(byte[] snapshot) {
        applied.clear();
        String s = new String(snapshot, StandardCharsets.UTF_8);
        if (!s.isEmpty()) {
            applied.addAll(Arrays.asList(s.split("\n")));
        }
    }

    synchronized List<String> appliedCopy() {
        return new ArrayList<>(applied);
    }
}
