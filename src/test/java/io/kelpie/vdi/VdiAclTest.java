package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class VdiAclTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void emptyIsOpenToAll() throws Exception {
        assertNull(VdiAcl.OPEN.refusal(ip("10.1.2.3"), null));
        assertNull(VdiAcl.decode(null).refusal(null, null));
        assertTrue(VdiAcl.decode(new byte[0]).isEmpty());
    }

    @Test
    void allowListsLetInOnlyWhatMatches() throws Exception {
        VdiAcl acl = VdiAcl.OPEN.with("cn:alice", true).with("addr:10.0.0.0/8", true).with("127.0.0.2", true);
        assertNull(acl.refusal(ip("10.200.0.1"), null));
        assertNull(acl.refusal(ip("127.0.0.2"), null));
        assertNull(acl.refusal(ip("192.168.1.1"), "alice"));
        assertNotNull(acl.refusal(ip("127.0.0.1"), null));
        assertNotNull(acl.refusal(ip("11.0.0.1"), "bob"));
        assertNotNull(acl.refusal(null, null), "an unknown client is not on an allow list");
    }

    @Test
    void denyWinsOverAllowAndAloneRefusesOnlyWhatMatches() throws Exception {
        VdiAcl acl = VdiAcl.OPEN.with("10.0.0.0/8", true).with("10.0.0.9", false);
        assertNull(acl.refusal(ip("10.0.0.8"), null));
        assertTrue(acl.refusal(ip("10.0.0.9"), null).contains("denies addr:10.0.0.9"));
        VdiAcl denyOnly = VdiAcl.OPEN.with("cn:mallory", false);
        assertNull(denyOnly.refusal(ip("1.2.3.4"), "alice"));
        assertNotNull(denyOnly.refusal(ip("1.2.3.4"), "mallory"));
    }

    @Test
    void ipv6RangesAndFamiliesDoNotMix() throws Exception {
        VdiAcl acl = VdiAcl.OPEN.with("addr:fd00::/8", true);
        assertNull(acl.refusal(ip("fd12:3456::1"), null));
        assertNotNull(acl.refusal(ip("fe80::1"), null));
        assertNotNull(acl.refusal(ip("10.0.0.1"), null));
        assertEquals("addr:0:0:0:0:0:0:0:1", VdiAcl.normalize("::1"));
    }

    @Test
    void encodesAsLinesAndReadsThemBack() throws Exception {
        VdiAcl acl = VdiAcl.OPEN.with("cn:alice", true).with("addr:127.0.0.2", false).with("cn:alice", false);
        String text = new String(acl.encode(), StandardCharsets.UTF_8);
        assertEquals("deny addr:127.0.0.2\ndeny cn:alice\n", text);
        VdiAcl back = VdiAcl.decode(acl.encode());
        assertEquals(acl.lines(), back.lines());
        assertTrue(back.without("cn:alice").lines().equals(java.util.List.of("deny addr:127.0.0.2")));
    }

    @Test
    void badEntriesAreRefusedAndNeverLookedUp() {
        for (String bad : new String[] {"foo.example", "addr:300.1.1.1", "addr:10.0.0.0/33", "cn:", "addr:10.0.0.0/x", "cn:a b"}) {
            assertThrows(KelpieException.class, () -> VdiAcl.normalize(bad), bad);
        }
    }

    @Test
    void aMalformedValueRefusesEveryone() throws Exception {
        VdiAcl acl = VdiAcl.decode("allow cn:alice\npermit everything\n".getBytes(StandardCharsets.UTF_8));
        assertTrue(acl.refusal(ip("127.0.0.1"), "alice").contains("malformed"));
        assertFalse(acl.isEmpty());
    }
}
