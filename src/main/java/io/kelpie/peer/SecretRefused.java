package io.kelpie.peer;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

/**
 * A connection that failed the cluster secret handshake: one side has no secret or another one.
 * Its status stays IO_ERROR (to the gateway such a node is unreachable, as {@link PeerTransport}
 * says), but the CLI and a joining node tell it apart to say why.
 */
public final class SecretRefused extends KelpieException {
    private static final long serialVersionUID = 1L;

    public SecretRefused(String message) {
        super(Status.IO_ERROR, message);
    }

    /** Whether {@code t}, or a cause of it, is a refused handshake or a node's UNAUTHORIZED answer. */
    public static boolean isRefusal(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SecretRefused || (c instanceof KelpieException ke && ke.status() == Status.UNAUTHORIZED)) {
                return true;
            }
        }
        return false;
    }
}
