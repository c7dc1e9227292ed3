package io.kelpie.frontend;

import io.kelpie.nbd.NbdTls;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The NBD server's TLS credentials from a directory laid out as nbdkit's and qemu's x509
 * credentials are: {@code ca-cert.pem} (the CA that signs client certificates; needed with
 * verify-peer), {@code server-cert.pem} (the server's certificate, optionally followed by its
 * chain) and {@code server-key.pem}. Everything is checked at startup, so that a bad file is one
 * clear line then, not a failed handshake for every client later. TLS is the JDK's (netty's
 * OpenSSL binding is not a dependency); TLS 1.2 and 1.3 only, as the NBD spec asks.
 */
public final class NbdTlsCredentials {
    public static final String CA = "ca-cert.pem";
    public static final String CERT = "server-cert.pem";
    public static final String KEY = "server-key.pem";

    private NbdTlsCredentials() {
    }

    /**
     * The handshake's TLS for {@code mode}; {@code dir} is required unless the mode is OFF.
     *
     * @param verifyPeer require a client certificate signed by {@code dir/ca-cert.pem}
     */
    public static NbdTls load(NbdTls.Mode mode, Path dir, boolean verifyPeer) throws IOException {
        if (mode == NbdTls.Mode.OFF) {
            if (verifyPeer) {
                throw new IOException("--tls-verify-peer needs --tls on or --tls require");
            }
            return NbdTls.OFF;
        }
        if (dir == null) {
            throw new IOException("--tls " + mode.name().toLowerCase() + " needs --tls-certificates DIR (holding "
                    + CA + ", " + CERT + ", " + KEY + ")");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("--tls-certificates " + dir + " is not a directory");
        }
        List<X509Certificate> chain = PemKeys.certificates(readable(dir.resolve(CERT)));
        PrivateKey key = PemKeys.privateKey(readable(dir.resolve(KEY)));
        checkPair(dir, chain.get(0), key);
        Path caFile = dir.resolve(CA);
        List<X509Certificate> ca = null;
        if (verifyPeer || Files.exists(caFile)) {
            ca = PemKeys.certificates(readable(caFile));
        }
        try {
            SslContextBuilder b = SslContextBuilder.forServer(key, chain.toArray(new X509Certificate[0]))
                    .sslProvider(SslProvider.JDK)
                    .protocols("TLSv1.3", "TLSv1.2");
            if (verifyPeer) {
                b.trustManager(ca.toArray(new X509Certificate[0])).clientAuth(ClientAuth.REQUIRE);
            }
            SslContext ctx = b.build();
            return NbdTls.of(mode, ctx);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot set up TLS from " + dir + ": " + e.getMessage(), e);
        }
    }

    private static Path readable(Path f) throws IOException {
        if (!Files.isRegularFile(f)) {
            throw new IOException("TLS: " + f + " is missing");
        }
        if (!Files.isReadable(f)) {
            throw new IOException("TLS: " + f + " is not readable by this user");
        }
        return f;
    }

    /** Signs a random message with the key and checks it with the certificate: they must be one pair. */
    private static void checkPair(Path dir, X509Certificate cert, PrivateKey key) throws IOException {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        byte[] msg = new byte[32];
        new SecureRandom().nextBytes(msg);
        boolean ok;
        try {
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(msg);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(msg);
            ok = v.verify(sig);
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) {
            throw new IOException("TLS: " + dir.resolve(KEY) + " is not the key of " + dir.resolve(CERT) + " ("
                    + cert.getSubjectX500Principal().getName() + ")");
        }
    }
}
