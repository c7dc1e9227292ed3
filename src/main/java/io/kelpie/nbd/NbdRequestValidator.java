package io.kelpie.nbd;

import static io.kelpie.nbd.NbdConstants.*;

/**
 * Checks every request against the protocol and what the handshake negotiated, in one place, before
 * any storage work starts. The errno choices follow the spec and nbdkit: writes beyond the end get
 * ENOSPC, other ranges beyond the end EINVAL, unknown commands and misplaced flags EINVAL, writes to
 * a read-only export EPERM.
 */
public final class NbdRequestValidator {
    private NbdRequestValidator() {
    }

    /** The error to answer {@code r} with, or null when it may be executed. */
    public static NbdError validate(NbdRequest r, NbdSession s) {
        int type = r.type();
        String cmd = commandName(type);
        switch (type) {
            case NBD_CMD_READ, NBD_CMD_WRITE, NBD_CMD_TRIM, NBD_CMD_CACHE, NBD_CMD_WRITE_ZEROES, NBD_CMD_BLOCK_STATUS,
                 NBD_CMD_FLUSH, NBD_CMD_DISC -> {
            }
            default -> {
                return new NbdError(NBD_EINVAL, "unknown command " + type);
            }
        }
        int flags = r.flags();
        if ((flags & ~NBD_CMD_FLAGS_KNOWN) != 0) {
            return new NbdError(NBD_EINVAL, cmd + ": unknown command flags 0x" + Integer.toHexString(flags & ~NBD_CMD_FLAGS_KNOWN));
        }
        if ((flags & (NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO)) != 0 && type != NBD_CMD_WRITE_ZEROES) {
            return new NbdError(NBD_EINVAL, cmd + ": NO_HOLE and FAST_ZERO are only valid on NBD_CMD_WRITE_ZEROES");
        }
        if ((flags & NBD_CMD_FLAG_DF) != 0 && (type != NBD_CMD_READ || !s.structuredReplies())) {
            return new NbdError(NBD_EINVAL, cmd + ": DF is only valid on NBD_CMD_READ with structured replies");
        }
        if ((flags & NBD_CMD_FLAG_REQ_ONE) != 0 && type != NBD_CMD_BLOCK_STATUS) {
            return new NbdError(NBD_EINVAL, cmd + ": REQ_ONE is only valid on NBD_CMD_BLOCK_STATUS");
        }
        long offset = r.offset();
        long length = r.length();
        switch (type) {
            case NBD_CMD_FLUSH -> {
                if (offset != 0 || length != 0) {
                    return new NbdError(NBD_EINVAL, cmd + ": offset and length must be 0");
                }
                return null;
            }
            case NBD_CMD_DISC -> {
                return null;
            }
            default -> {
            }
        }
        if (length == 0) {
            return new NbdError(NBD_EINVAL, cmd + ": length must not be 0");
        }
        long size = s.size();
        // offset is an unsigned 64-bit value: a "negative" one is far beyond any end.
        if (offset < 0 || offset > size || length > size - offset) {
            int errno = type == NBD_CMD_WRITE || type == NBD_CMD_WRITE_ZEROES ? NBD_ENOSPC : NBD_EINVAL;
            return new NbdError(errno, cmd + ": range " + Long.toUnsignedString(offset) + "+" + length
                    + " is beyond the end of the export (" + size + " bytes)");
        }
        if ((type == NBD_CMD_READ || type == NBD_CMD_WRITE) && length > NbdLimits.MAX_REQUEST_SIZE) {
            return new NbdError(NBD_EINVAL, cmd + ": length " + length + " exceeds the maximum of "
                    + NbdLimits.MAX_REQUEST_SIZE + " bytes");
        }
        if (s.readOnly() && (type == NBD_CMD_WRITE || type == NBD_CMD_TRIM || type == NBD_CMD_WRITE_ZEROES)) {
            return new NbdError(NBD_EPERM, cmd + ": export " + s.info().name() + " is read-only");
        }
        if (type == NBD_CMD_BLOCK_STATUS && (!s.structuredReplies()
                || s.baseAllocationContext() == 0 && s.allocationDepthContext() == 0)) {
            return new NbdError(NBD_EINVAL, cmd + ": no metadata context was selected with NBD_OPT_SET_META_CONTEXT");
        }
        return null;
    }
}
