package io.kelpie;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test certificates made with the openssl command: a CA, a server directory in the nbdkit/qemu
 * layout (ca-cert.pem, server-cert.pem, server-key.pem) and client directories (ca-cert.pem,
 * client-cert.pem, client-key.pem), keys as openssl writes them.
 */
public final class TestPki {
    private final Path root;
    private final String caName;

    private TestPki(Path root, String caName) {
        this.root = root;
        this.caName = caName;
    }

    /** A new CA under {@code root/caName}. */
    public static TestPki create(Path root, String caName) throws IOException {
        TestPki p = new TestPki(root, caName);
        Files.createDirectories(p.caDir());
        openssl(p.caDir(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca-cert.pem",
                "-days", "2", "-subj", "/CN=" + caName, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return p;
    }

    public Path caDir() {
        return root.resolve(caName);
    }

    public Path caCert() {
        return caDir().resolve("ca-cert.pem");
    }

    /** A directory with {@code prefix}-cert.pem and -key.pem signed by this CA, plus ca-cert.pem. */
    public Path issue(String dirName, String prefix, String cn, String keyKind) throws IOException {
        Path d = root.resolve(dirName);
        Files.createDirectories(d);
        Path key = d.resolve(prefix + "-key.pem");
        switch (keyKind) {
            case "rsa-traditional" -> openssl(d, "genrsa", "-traditional", "-out", key.toString(), "2048");
            case "ec-traditional" -> openssl(d, "ecparam", "-name", "prime256v1", "-genkey", "-out", key.toString());
            case "pkcs8" -> openssl(d, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.toString());
            case "ed25519" -> openssl(d, "genpkey", "-algorithm", "ed25519", "-out", key.toString());
            default -> throw new IllegalArgumentException(keyKind);
        }
        boolean server = prefix.equals("server");
        Path ext = d.resolve(prefix + ".ext");
        Files.writeString(ext, server ? "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
                : "extendedKeyUsage=clientAuth\n");
        openssl(d, "req", "-new", "-key", key.toString(), "-subj", "/O=Kelpie tests/CN=" + cn, "-out", prefix + ".csr");
        openssl(d, "x509", "-req", "-in", prefix + ".csr", "-CA", caCert().toString(), "-CAkey",
                caDir().resolve("ca-key.pem").toString(), "-CAcreateserial", "-days", "2", "-extfile", ext.toString(),
                "-out", d.resolve(prefix + "-cert.pem").toString());
        Files.copy(caCert(), d.resolve("ca-cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return d;
    }

    public static void openssl(Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
