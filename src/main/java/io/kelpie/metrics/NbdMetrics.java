package io.kelpie.metrics;

/** The NBD frontend's view of the metrics: one recorder per export, asked for when a connection opens it. */
public interface NbdMetrics {
    NbdMetrics OFF = exportName -> VdiRecorder.OFF;

    /** The recorder of export {@code exportName} (shared by every connection to it; not on an event loop). */
    VdiRecorder export(String exportName);
}
