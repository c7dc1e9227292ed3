package io.kelpie.nbd;

/**
 * Why an export cannot be had, as an option error reply: an {@link NbdExports} lookup fails with
 * this to choose the reply type (NBD_REP_ERR_POLICY for an export in use elsewhere, say). Any other
 * failure is answered with NBD_REP_ERR_UNKNOWN.
 */
public final class NbdExportRefused extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int replyType;

    public NbdExportRefused(int replyType, String message) {
        super(message, null, false, false);
        this.replyType = replyType;
    }

    public int replyType() {
        return replyType;
    }

    /** The reply type for a failed lookup: the one a refusal names, else NBD_REP_ERR_UNKNOWN. */
    static int replyTypeOf(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof NbdExportRefused r) {
                return r.replyType;
            }
        }
        return NbdConstants.NBD_REP_ERR_UNKNOWN;
    }
}
