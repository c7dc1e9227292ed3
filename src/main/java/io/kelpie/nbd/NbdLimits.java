package io.kelpie.nbd;

/** What this server advertises and what it accepts from a client before it gives up on it. */
public final class NbdLimits {
    private NbdLimits() {
    }

    /** NBD_INFO_BLOCK_SIZE: any alignment works; 4 KiB is what the store likes; 32 MiB per request. */
    public static final int MIN_BLOCK_SIZE = 1;
    public static final int PREFERRED_BLOCK_SIZE = 4096;
    public static final int MAX_BLOCK_SIZE = 32 << 20;
    /** Clients (fio) send up to 64 MiB although 32 MiB is advertised: served; anything larger is refused. */
    public static final int MAX_REQUEST_SIZE = 64 << 20;
    /** No option needs more: names and queries are at most 4 KiB each. */
    public static final int MAX_OPTION_LENGTH = 64 << 10;
    /** Options one connection may send before it must choose an export. */
    public static final int MAX_OPTIONS = 1024;
    /** Metadata queries in one LIST/SET_META_CONTEXT. */
    public static final int MAX_QUERIES = 128;
    public static final int HANDSHAKE_TIMEOUT_SECONDS = 30;
}
