package io.kelpie.frontend;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.nbd.NbdError;

import static io.kelpie.nbd.NbdConstants.*;

/** The one place a Kelpie failure becomes an NBD errno. */
final class NbdErrors {
    private NbdErrors() {
    }

    static int errno(Status status) {
        return switch (status) {
            case NO_SPACE -> NBD_ENOSPC;
            case INVALID -> NBD_EINVAL;
            case READ_ONLY -> NBD_EPERM;
            case UNSUPPORTED -> NBD_ENOTSUP;
            case SHUTDOWN -> NBD_ESHUTDOWN;
            default -> NBD_EIO;
        };
    }

    static NbdError of(Throwable t) {
        return new NbdError(errno(KelpieException.statusOf(t)), KelpieException.messageOf(t));
    }
}
