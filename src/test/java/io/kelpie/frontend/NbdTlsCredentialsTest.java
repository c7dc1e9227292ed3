package io.kelpie.frontend;

import io.kelpie.TestPki;
import io.kelpie.nbd.NbdTls;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.junit.jupiter.api.Assertions.*;

/** Loading the server's credentials: every key form openssl writes, and a clear error for each mistake. */
class NbdTlsCredentialsTest {
    @TempDir
    static Path root;
    static TestPki pki;

    @BeforeAll
    static void ca() throws IOException {
        pki = TestPki.create(root, "ca");
    }

    @ParameterizedTest
    @ValueSource(strings = {"rsa-traditional", "ec-traditional", "pkcs8", "ed25519"})
    void everyKeyFormLoads(String kind) throws IOException {
        Path d = pki.issue("srv-" + kind, "server", "localhost", kind);
        if (kind.endsWith("traditional")) {
            String key = Files.readString(d.resolve("server-key.pem"));
            assertTrue(key.contains(kind.startsWith("rsa") ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY"), key);
        }
        NbdTls tls = NbdTlsCredentials.load(NbdTls.Mode.REQUIRE, d, true);
        assertEquals(NbdTls.Mode.REQUIRE, tls.mode());
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws IOException {
        Path a = pki.issue("srv-a", "server", "localhost", "pkcs8");
        Path b = pki.issue("srv-b", "server", "localhost", "pkcs8");
        Files.copy(b.resolve("server-key.pem"), a.resolve("server-key.pem"), StandardCopyOption.REPLACE_EXISTING);
        IOException e = assertThrows(IOException.class, () -> NbdTlsCredentials.load(NbdTls.Mode.ON, a, false));
        assertTrue(e.getMessage().contains("is not the key of"), e.getMessage());
    }

    @Test
    void missingFilesAndOptionsAreNamed() throws IOException {
        Path d = pki.issue("srv-missing", "server", "localhost", "pkcs8");
        Files.delete(d.resolve("ca-cert.pem"));
        // no CA is fine without verify-peer, and named with it
        NbdTlsCredentials.load(NbdTls.Mode.ON, d, false);
        IOException e = assertThrows(IOException.class, () -> NbdTlsCredentials.load(NbdTls.Mode.ON, d, true));
        assertTrue(e.getMessage().contains("ca-cert.pem is missing"), e.getMessage());
        Files.delete(d.resolve("server-key.pem"));
        e = assertThrows(IOException.class, () -> NbdTlsCredentials.load(NbdTls.Mode.ON, d, false));
        assertTrue(e.getMessage().contains("server-key.pem is missing"), e.getMessage());
        e = assertThrows(IOException.class, () -> NbdTlsCredentials.load(NbdTls.Mode.ON, null, false));
        assertTrue(e.getMessage().contains("--tls on needs --tls-certificates"), e.getMessage());
        e = assertThrows(IOException.class, () -> NbdTlsCredentials.load(NbdTls.Mode.OFF, null, true));
        assertTrue(e.getMessage().contains("--tls-verify-peer needs"), e.getMessage());
        Files.writeString(d.resolve("server-key.pem"), "not a key\n");
        e = assertThrows(IOException.class, () -> NbdTlsCredentials.load(NbdTls.Mode.ON, d, false));
        assertTrue(e.getMessage().contains("holds no PEM private key"), e.getMessage());
    }

    @Test
    void anEncryptedKeyIsRefusedWithHowToDecryptIt() throws IOException {
        Path d = pki.issue("srv-enc", "server", "localhost", "pkcs8");
        TestPki.openssl(d, "pkey", "-in", "server-key.pem", "-aes256", "-passout", "pass:x", "-out", "enc.pem");
        Files.move(d.resolve("enc.pem"), d.resolve("server-key.pem"), StandardCopyOption.REPLACE_EXISTING);
        IOException e = assertThrows(IOException.class, () -> NbdTlsCredentials.load(NbdTls.Mode.ON, d, false));
        assertTrue(e.getMessage().contains("encrypted key"), e.getMessage());
    }
}
