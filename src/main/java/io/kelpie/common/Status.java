package io.kelpie.common;

/**
 * Result codes shared by every layer: the peer protocol carries them on the wire (by {@link #code()}),
 * the NBD front end maps them to errno values in one place.
 */
public enum Status {
    OK(0, "success"),
    IO_ERROR(1, "I/O error"),
    INVALID(2, "invalid argument"),
    NO_VDI(3, "no such VDI"),
    VDI_EXISTS(4, "VDI already exists"),
    NO_SPACE(5, "no space left"),
    READ_ONLY(6, "read-only"),
    NOT_FORMATTED(7, "cluster is not formatted"),
    ALREADY_FORMATTED(8, "cluster is already formatted"),
    NO_OBJECT(9, "no such object"),
    OLD_EPOCH(10, "request from an older epoch"),
    NEW_EPOCH(11, "request from a newer epoch"),
    NOT_ENOUGH_ZONES(12, "not enough zones for the requested copies"),
    VDI_FULL(13, "no free VDI id"),
    SHUTDOWN(14, "node is shutting down"),
    UNSUPPORTED(15, "operation not supported"),
    CLUSTER_MISMATCH(16, "node belongs to another cluster"),
    TOO_BIG(17, "request too large"),
    VDI_LOCKED(18, "VDI is in use on another node"),
    /** A stored object's checksum does not match its bytes (bit rot, a torn write). */
    CORRUPT(19, "checksum mismatch"),
    /** This node sees too few of the cluster's nodes (a partition) or waits for them (a restart). */
    NO_QUORUM(20, "cluster has no quorum"),
    /** Fewer replicas than the cluster's min-copies could store a write. */
    TOO_FEW_COPIES(21, "too few replicas available"),
    /** The connection did not prove it knows the cluster secret (none, or another one). */
    UNAUTHORIZED(22, "cluster secret missing or wrong");

    private static final Status[] BY_CODE = new Status[32];

    static {
        for (Status s : values()) {
            BY_CODE[s.code] = s;
        }
    }

    private final int code;
    private final String description;

    Status(int code, String description) {
        this.code = code;
        this.description = description;
    }

    public int code() {
        return code;
    }

    public String description() {
        return description;
    }

    public static Status ofCode(int code) {
        Status s = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        return s != null ? s : IO_ERROR;
    }
}
