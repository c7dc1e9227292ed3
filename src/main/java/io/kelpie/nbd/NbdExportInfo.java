package io.kelpie.nbd;

/**
 * What the handshake tells a client about an export.
 *
 * @param name        canonical export name (what NBD_OPT_LIST shows and NBD_INFO_NAME returns)
 * @param description human-readable, for NBD_REP_SERVER and NBD_INFO_DESCRIPTION
 */
public record NbdExportInfo(String name, String description, long size, boolean readOnly) {

    /** Transmission flags for this export; SEND_DF only when structured replies were negotiated. */
    public int transmissionFlags(boolean structuredReplies) {
        int flags = NbdConstants.NBD_FLAG_HAS_FLAGS | NbdConstants.NBD_FLAG_SEND_FLUSH | NbdConstants.NBD_FLAG_SEND_FUA
                | NbdConstants.NBD_FLAG_SEND_CACHE | NbdConstants.NBD_FLAG_CAN_MULTI_CONN;
        if (readOnly) {
            flags |= NbdConstants.NBD_FLAG_READ_ONLY;
        } else {
            flags |= NbdConstants.NBD_FLAG_SEND_TRIM | NbdConstants.NBD_FLAG_SEND_WRITE_ZEROES
                    | NbdConstants.NBD_FLAG_SEND_FAST_ZERO;
        }
        if (structuredReplies) {
            flags |= NbdConstants.NBD_FLAG_SEND_DF;
        }
        return flags;
    }
}
