package io.kelpie.peer;

/** Package-private PeerClient constants for tests elsewhere. */
public final class PeerClientAccess {
    private PeerClientAccess() {
    }

    public static long silentCloseNanos() {
        return PeerClient.SILENT_CLOSE_NANOS;
    }
}
