package io.kelpie.common;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterSecretTest {
    @TempDir
    Path dir;

    private Path file(String name, String content, String mode) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void hkdfExpandMatchesRfc5869TestCase1() {
        HexFormat hex = HexFormat.of();
        byte[] ikm = hex.parseHex("0b".repeat(22));
        byte[] salt = hex.parseHex("000102030405060708090a0b0c");
        byte[] info = hex.parseHex("f0f1f2f3f4f5f6f7f8f9");
        byte[] prk = ClusterSecret.hmac(salt, ikm);
        assertEquals("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", hex.formatHex(prk));
        // the first 32 of the RFC's 42 bytes of OKM
        assertEquals("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf",
                hex.formatHex(ClusterSecret.expand(prk, info)));
    }

    @Test
    void trailingWhitespaceIsNotPartOfTheSecret() throws Exception {
        ClusterSecret a = ClusterSecret.load(file("a", "correct horse battery staple\n", "rw-------"));
        ClusterSecret b = ClusterSecret.of("correct horse battery staple".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(b.key("x"), a.key("x"));
        assertEquals(b.fingerprint(), a.fingerprint());
    }

    @Test
    void everyUseHasItsOwnKeyAndEverySecretItsOwnKeys() {
        ClusterSecret a = ClusterSecret.of("secret one, long enough".getBytes(StandardCharsets.UTF_8));
        ClusterSecret b = ClusterSecret.of("secret two, long enough".getBytes(StandardCharsets.UTF_8));
        assertFalse(java.util.Arrays.equals(a.key("peer"), a.key("jgroups")));
        assertFalse(java.util.Arrays.equals(a.key("peer"), b.key("peer")));
        assertNotEquals(a.fingerprint(), b.fingerprint());
        assertFalse(a.toString().contains("secret one"));
    }

    @Test
    void badFilesAreRefusedWithTheReason() throws Exception {
        assertRefused(file("empty", " \n", "rw-------"), "is empty");
        assertRefused(file("world", "a long enough secret", "rw-r--r--"), "accessible by every user");
        assertRefused(file("worldw", "a long enough secret", "rw-----w-"), "accessible by every user");
        assertRefused(dir.resolve("missing"), "does not exist");
        Path unreadable = file("unreadable", "a long enough secret", "-w-------");
        if (!Files.isReadable(unreadable)) { // root reads every file
            assertRefused(unreadable, "not readable");
        }
        Path sub = dir.resolve("sub");
        Files.createDirectory(sub, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        assertRefused(sub, "not a regular file");
    }

    @Test
    void groupAccessIsOnlyWarnedAbout() throws Exception {
        ClusterSecret s = ClusterSecret.load(file("group", "a long enough secret", "rw-r-----"));
        assertEquals(8, s.fingerprint().length());
    }

    private static void assertRefused(Path f, String why) {
        KelpieException e = assertThrows(KelpieException.class, () -> ClusterSecret.load(f));
        assertEquals(Status.INVALID, e.status());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }
}
