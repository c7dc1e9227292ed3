package io.kelpie.nbd;

/** What a connection's handshake negotiated; fixed once transmission starts. */
public final class NbdSession {
    private final NbdExport export;
    private final int transmissionFlags;
    private final boolean structuredReplies;
    private final int baseAllocationContext;
    private final int allocationDepthContext;

    /**
     * @param baseAllocationContext the id chosen for base:allocation by NBD_OPT_SET_META_CONTEXT on
     *                              this export, 0 when none was selected
     */
    public NbdSession(NbdExport export, int transmissionFlags, boolean structuredReplies, int baseAllocationContext) {
        this(export, transmissionFlags, structuredReplies, baseAllocationContext, 0);
    }

    /** @param allocationDepthContext the id chosen for qemu:allocation-depth, 0 when none was selected */
    public NbdSession(NbdExport export, int transmissionFlags, boolean structuredReplies, int baseAllocationContext,
                      int allocationDepthContext) {
        this.export = export;
        this.transmissionFlags = transmissionFlags;
        this.structuredReplies = structuredReplies;
        this.baseAllocationContext = baseAllocationContext;
        this.allocationDepthContext = allocationDepthContext;
    }

    public NbdExport export() {
        return export;
    }

    public NbdExportInfo info() {
        return export.info();
    }

    public long size() {
        return export.info().size();
    }

    public int transmissionFlags() {
        return transmissionFlags;
    }

    public boolean readOnly() {
        return (transmissionFlags & NbdConstants.NBD_FLAG_READ_ONLY) != 0;
    }

    public boolean structuredReplies() {
        return structuredReplies;
    }

    public int baseAllocationContext() {
        return baseAllocationContext;
    }

    public int allocationDepthContext() {
        return allocationDepthContext;
    }
}
