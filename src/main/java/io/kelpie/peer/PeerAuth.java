package io.kelpie.peer;

import io.kelpie.common.ClusterSecret;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;

/**
 * The handshake that opens every peer and admin connection to a node with a cluster secret: an
 * HMAC-SHA256 challenge-response both ways, in peer protocol frames, before any other request.
 *
 * <pre>
 * client                                         server
 *   AUTH_HELLO(version 1, client nonce Nc) --&gt;
 *                                          &lt;--  OK(server nonce Ns)
 *   AUTH_PROOF(HMAC(K, "client", Ns, Nc))  --&gt;
 *                                          &lt;--  OK(HMAC(K, "server", Nc, Ns)), or UNAUTHORIZED and close
 * </pre>
 *
 * K is derived from the secret for this use only. Each side's proof covers the nonce the other
 * side just drew, so a recorded handshake proves nothing on a new connection, and the labels keep
 * one side's proof from being reflected back as the other's. The client proves first, so that a
 * node sees (and logs) a client with another secret; the client then checks the node's proof, so
 * that it never talks to a node without the secret either. The secret never crosses the wire.
 * Once done, both sides take their handler out of the pipeline: requests after it cost nothing.
 */
public final class PeerAuth {
    public static final int VERSION = 1;
    public static final int NONCE_BYTES = 32;
    public static final int MAC_BYTES = 32;
    public static final int HELLO_BYTES = 1 + NONCE_BYTES;
    /** A connection that has not finished the handshake by then is closed (a stranger holds no socket long). */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** What a node answers a connection that sends requests without the handshake; the CLI prints it. */
    public static final String NEEDS_SECRET =
            "node refused: this command needs the cluster secret: --cluster-secret FILE or " + ClusterSecret.ENV;
    /** What a node answers a wrong proof. */
    public static final String WRONG_SECRET = "node refused: cluster secret does not match";

    private static final byte[] SERVER = "kelpie peer server".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLIENT = "kelpie peer client".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;

    public PeerAuth(ClusterSecret secret) {
        this.key = secret.key("kelpie peer auth v1");
    }

    public static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    public byte[] serverProof(byte[] clientNonce, byte[] serverNonce) {
        return ClusterSecret.hmac(key, SERVER, clientNonce, serverNonce);
    }

    public byte[] clientProof(byte[] serverNonce, byte[] clientNonce) {
        return ClusterSecret.hmac(key, CLIENT, serverNonce, clientNonce);
    }

    /** Constant time, so that timing tells a guesser nothing about how much of a proof was right. */
    public static boolean same(byte[] expected, byte[] got) {
        return MessageDigest.isEqual(expected, got);
    }
}
