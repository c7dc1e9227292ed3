package io.kelpie.peer;

/**
 * The Kelpie peer protocol: one binary, pipelined request/response protocol on a node's
 * {@code --port}, used by the admin CLI (client opcodes) and by nodes talking to each other
 * (peer opcodes). All integers are big-endian.
 *
 * <pre>
 * request header (48 bytes)              response header (28 bytes)
 *  0 u32 magic   REQUEST_MAGIC            0 u32 magic   RESPONSE_MAGIC
 *  4 u16 opcode                           4 u16 opcode  (echoed)
 *  6 u16 flags   (FLAG_*)                 6 u16 status  (io.kelpie.common.Status code)
 *  8 u64 epoch                            8 u64 epoch   (the responder's)
 * 16 u64 request id                      16 u64 request id (echoed)
 * 24 u64 oid                             24 u32 data length, then that many payload bytes
 * 32 u64 offset
 * 40 u32 length  (bytes to read/zero)
 * 44 u32 data length, then that many payload bytes
 * </pre>
 *
 * Responses may come back in any order; the request id matches them up. A failed request answers
 * with a non-OK status and, as payload, the error message (u16 length + UTF-8).
 */
public final class PeerConstants {
    private PeerConstants() {
    }

    // ---- framing
    /** "KLPQ": start of every request. */
    public static final int REQUEST_MAGIC = 0x4B4C5051;
    /** "KLPR": start of every response. */
    public static final int RESPONSE_MAGIC = 0x4B4C5052;
    public static final int REQUEST_HEADER_SIZE = 48;
    public static final int RESPONSE_HEADER_SIZE = 28;
    /** Largest payload either side accepts; a larger length closes the connection. */
    public static final int MAX_PAYLOAD = 64 << 20;
    /** Default port of the peer/admin protocol, as Sheepdog's. */
    public static final int DEFAULT_PORT = 7000;

    // ---- request flags
    /** Make a write durable before answering. */
    public static final int FLAG_SYNC = 0x0001;
    /** FORMAT: format even a formatted cluster, deleting every VDI. REPAIR_OBJ: copy from the node the payload names. */
    public static final int FLAG_FORCE = 0x0002;
    /** VDI_OBJECT: list every object instead of the one at index {@code offset}. */
    public static final int FLAG_ALL = 0x0004;
    /** NODE_INFO: only the receiving node, not every member (how a node gathers the others' space). */
    public static final int FLAG_LOCAL = 0x0008;
    /** Retired: stale copies are no longer moved aside, so there is nothing extra to look in. Ignored. */
    public static final int FLAG_STALE_OK = 0x0010;
    /** STAT_OBJ: also read the whole object and check every block against its checksum. */
    public static final int FLAG_VERIFY = 0x0020;
    /** VDI_SNAPSHOT: sent on by the node the client asked to the node that has the VDI open; not sent on again. */
    public static final int FLAG_FORWARDED = 0x0040;
    /** FETCH_OBJ: answer packed, with the block entries and only the non-zero blocks (ObjectMessages). */
    public static final int FLAG_PACKED = 0x0080;

    // ---- client (admin) opcodes: 0x01..0x7f, sent by the CLI, served by any node
    public static final int FORMAT = 0x01;
    public static final int CLUSTER_INFO = 0x02;
    public static final int NODE_LIST = 0x03;
    public static final int NODE_INFO = 0x04;
    /** Recovery progress of every member (FLAG_LOCAL: the receiver's only). */
    public static final int NODE_RECOVERY = 0x05;
    /** Stop every node of the cluster cleanly. */
    public static final int CLUSTER_SHUTDOWN = 0x06;
    /** Go on without the missing nodes of the last epoch (after a whole-cluster restart). */
    public static final int CLUSTER_RECOVER = 0x07;
    /** Compare and repair the replicas of every object of every VDI. */
    public static final int CLUSTER_CHECK = 0x08;
    public static final int VDI_CREATE = 0x10;
    public static final int VDI_LIST = 0x11;
    public static final int VDI_DELETE = 0x12;
    public static final int VDI_RESIZE = 0x13;
    public static final int VDI_OBJECT = 0x14;
    public static final int VDI_READ = 0x15;
    public static final int VDI_WRITE = 0x16;
    /** Compare and repair the replicas of every object of one VDI. */
    public static final int VDI_CHECK = 0x17;
    /** VDI_SNAPSHOT(name, tag) -> VdiInfo of the snapshot. */
    public static final int VDI_SNAPSHOT = 0x18;
    /** VDI_CLONE(source NAME@TAG, name, i32 copies or 0) -> VdiInfo of the clone. */
    public static final int VDI_CLONE = 0x19;
    /** VDI_ROLLBACK(name, tag) -> VdiInfo of the VDI as it goes on. */
    public static final int VDI_ROLLBACK = 0x1a;
    /** VDI_SETATTR(name, key, i32 flags 1 exclusive 2 delete, value to the end) -> nothing. */
    public static final int VDI_SETATTR = 0x1b;
    /** VDI_GETATTR(name, key) -> the value, raw. */
    public static final int VDI_GETATTR = 0x1c;
    /**
     * VDI_TRIM(name, i64 length; offset): discard the range; whole objects leave the table (how a
     * failed full restore gives its VDI back empty).
     */
    public static final int VDI_TRIM = 0x1d;
    /**
     * VDI_HOLD(name, i32 lease ms; offset = token, 0 for a new hold) -> u64 token: keep the VDI
     * open on the receiver between requests (renew within the lease; lease 0 releases).
     */
    public static final int VDI_HOLD = 0x1e;
    /**
     * AUTH_HELLO(u8 version, 32-byte client nonce) -> 32-byte server nonce: the first frame on a
     * connection to a node with a cluster secret (see {@code PeerAuth}).
     */
    public static final int AUTH_HELLO = 0x7e;
    /** AUTH_PROOF(32-byte client proof) -> 32-byte server proof: the second and last frame of the handshake. */
    public static final int AUTH_PROOF = 0x7f;

    // ---- peer (object) opcodes: 0x80..0xff, node to node, against the receiver's local store
    public static final int READ_OBJ = 0x80;
    public static final int WRITE_OBJ = 0x81;
    public static final int CREATE_AND_WRITE_OBJ = 0x82;
    public static final int ZERO_OBJ = 0x83;
    public static final int REMOVE_OBJ = 0x84;
    public static final int FLUSH = 0x85;
    public static final int LIST_OBJ = 0x86;
    public static final int EXISTS_OBJ = 0x87;
    /** STAT_OBJ(oid; FLAG_VERIFY): exists, version, content digest, bad blocks. */
    public static final int STAT_OBJ = 0x88;
    /** FETCH_OBJ(oid): the whole object with its version, for recovery and repair. */
    public static final int FETCH_OBJ = 0x89;
    /** REPAIR_OBJ(oid) -> u8 repaired: the receiver brings its copy up to date from the best other replica. */
    public static final int REPAIR_OBJ = 0x8a;
    /** LIST_VERSIONS: every object the receiver holds, with its version. */
    public static final int LIST_VERSIONS = 0x8b;

    public static boolean isPeerOpcode(int opcode) {
        return opcode >= 0x80;
    }

    /** Name of an opcode for logs. */
    public static String opcodeName(int opcode) {
        return switch (opcode) {
            case FORMAT -> "FORMAT";
            case CLUSTER_INFO -> "CLUSTER_INFO";
            case NODE_LIST -> "NODE_LIST";
            case NODE_INFO -> "NODE_INFO";
            case NODE_RECOVERY -> "NODE_RECOVERY";
            case CLUSTER_SHUTDOWN -> "CLUSTER_SHUTDOWN";
            case CLUSTER_RECOVER -> "CLUSTER_RECOVER";
            case CLUSTER_CHECK -> "CLUSTER_CHECK";
            case VDI_CREATE -> "VDI_CREATE";
            case VDI_LIST -> "VDI_LIST";
            case VDI_DELETE -> "VDI_DELETE";
            case VDI_RESIZE -> "VDI_RESIZE";
            case VDI_OBJECT -> "VDI_OBJECT";
            case VDI_READ -> "VDI_READ";
            case VDI_WRITE -> "VDI_WRITE";
            case VDI_CHECK -> "VDI_CHECK";
            case VDI_SNAPSHOT -> "VDI_SNAPSHOT";
            case VDI_CLONE -> "VDI_CLONE";
            case VDI_ROLLBACK -> "VDI_ROLLBACK";
            case VDI_SETATTR -> "VDI_SETATTR";
            case VDI_GETATTR -> "VDI_GETATTR";
            case VDI_TRIM -> "VDI_TRIM";
            case VDI_HOLD -> "VDI_HOLD";
            case AUTH_HELLO -> "AUTH_HELLO";
            case AUTH_PROOF -> "AUTH_PROOF";
            case READ_OBJ -> "READ_OBJ";
            case WRITE_OBJ -> "WRITE_OBJ";
            case CREATE_AND_WRITE_OBJ -> "CREATE_AND_WRITE_OBJ";
            case ZERO_OBJ -> "ZERO_OBJ";
            case REMOVE_OBJ -> "REMOVE_OBJ";
            case FLUSH -> "FLUSH";
            case LIST_OBJ -> "LIST_OBJ";
            case EXISTS_OBJ -> "EXISTS_OBJ";
            case STAT_OBJ -> "STAT_OBJ";
            case FETCH_OBJ -> "FETCH_OBJ";
            case REPAIR_OBJ -> "REPAIR_OBJ";
            case LIST_VERSIONS -> "LIST_VERSIONS";
            default -> "UNKNOWN(0x" + Integer.toHexString(opcode) + ")";
        };
    }
}
