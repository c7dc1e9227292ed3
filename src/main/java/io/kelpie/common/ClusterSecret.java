package io.kelpie.common;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;

/**
 * The shared secret of an authenticated cluster ({@code --cluster-secret FILE}, the same file on
 * every node and for the CLI). The file's bytes are never used as a key directly: every use gets
 * its own key derived by HKDF-SHA256 (RFC 5869) with a label, so that the key that seals the
 * membership traffic is not the one that signs peer handshakes, and neither reveals the secret.
 */
public final class ClusterSecret {
    private static final Logger log = LoggerFactory.getLogger(ClusterSecret.class);
    /** The environment variable admin commands read the secret file's path from. */
    public static final String ENV = "KELPIE_SECRET_FILE";
    /** Shorter secrets are accepted with a warning: a guessable secret opens the cluster. */
    static final int MIN_STRONG_BYTES = 16;
    private static final byte[] SALT = "kelpie cluster secret v1".getBytes(StandardCharsets.US_ASCII);

    private final byte[] prk;

    private ClusterSecret(byte[] secret) {
        this.prk = hmac(SALT, secret);
    }

    /** A secret from its bytes (tests; the file's content otherwise). */
    public static ClusterSecret of(byte[] secret) {
        if (secret.length == 0) {
            throw new KelpieException(Status.INVALID, "the cluster secret is empty");
        }
        return new ClusterSecret(secret.clone());
    }

    /**
     * Reads {@code file}. Refused: missing, unreadable, empty (after trailing whitespace, so that
     * {@code echo ... > FILE} and {@code head -c 32 /dev/urandom > FILE} both work) or readable or
     * writable by others; group access is warned about.
     */
    public static ClusterSecret load(Path file) {
        String where = "cluster secret file " + file;
        byte[] bytes;
        try {
            checkMode(file, where);
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new KelpieException(Status.INVALID, where + " does not exist");
        } catch (AccessDeniedException e) {
            throw new KelpieException(Status.INVALID, where + " is not readable by this user");
        } catch (IOException e) {
            throw new KelpieException(Status.INVALID, "cannot read " + where + ": " + KelpieException.messageOf(e));
        }
        int n = bytes.length;
        while (n > 0 && Character.isWhitespace(bytes[n - 1])) {
            n--;
        }
        if (n == 0) {
            throw new KelpieException(Status.INVALID, where + " is empty");
        }
        if (n < MIN_STRONG_BYTES) {
            log.warn("{} holds only {} bytes: use at least {} random ones (head -c 32 /dev/urandom | base64)",
                    where, n, MIN_STRONG_BYTES);
        }
        ClusterSecret s = new ClusterSecret(Arrays.copyOf(bytes, n));
        Arrays.fill(bytes, (byte) 0);
        return s;
    }

    /** The secret of {@code --cluster-secret FILE}, else of {@code $KELPIE_SECRET_FILE}, else null. */
    public static ClusterSecret fromOptionOrEnv(Path option) {
        if (option != null) {
            return load(option);
        }
        String env = System.getenv(ENV);
        return env == null || env.isBlank() ? null : load(Path.of(env));
    }

    private static void checkMode(Path file, String where) throws IOException {
        Set<PosixFilePermission> mode;
        try {
            mode = Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException e) {
            return; // not a POSIX file system: nothing to check
        }
        if (mode.contains(PosixFilePermission.OTHERS_READ) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new KelpieException(Status.INVALID, where + " is accessible by every user: chmod 600 " + file);
        }
        if (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.GROUP_WRITE)) {
            log.warn("{} is accessible by its group (mode wider than 0600): chmod 600 {}", where, file);
        }
        if (!Files.isRegularFile(file)) {
            throw new KelpieException(Status.INVALID, where + " is not a regular file");
        }
    }

    /** A 32-byte key for one purpose (HKDF-Expand of the secret with {@code label} as info). */
    public byte[] key(String label) {
        return expand(prk, label.getBytes(StandardCharsets.US_ASCII));
    }

    /** HKDF-Expand (RFC 5869) to one block: the first 32 bytes of the output keying material. */
    static byte[] expand(byte[] prk, byte[] info) {
        byte[] block = Arrays.copyOf(info, info.length + 1);
        block[info.length] = 1; // T(1) = HMAC(PRK, info | 0x01)
        return hmac(prk, block);
    }

    /** A short public name of the secret for logs: two nodes print the same one iff they share it. */
    public String fingerprint() {
        return HexFormat.of().formatHex(key("kelpie fingerprint"), 0, 4);
    }

    /** HMAC-SHA256 of the parts, in order, under {@code key}. */
    public static byte[] hmac(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return "cluster secret " + fingerprint(); // never the secret itself
    }
}
