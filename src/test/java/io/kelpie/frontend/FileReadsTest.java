package io.kelpie.frontend;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

import static org.junit.jupiter.api.Assertions.*;

class FileReadsTest {
    private static InetSocketAddress at(String ip) {
        return new InetSocketAddress(ip, 10809);
    }

    @AfterEach
    void clear() {
        System.clearProperty(FileReads.PROPERTY);
    }

    @Test
    void aClientOnThisHostIsLocal() {
        assertTrue(FileReads.isLocal(at("127.0.0.1"), at("127.0.0.1")));
        assertTrue(FileReads.isLocal(at("127.0.0.2"), at("10.1.2.3")), "any loopback address");
        assertTrue(FileReads.isLocal(at("::1"), at("::1")));
        assertTrue(FileReads.isLocal(at("10.1.2.3"), at("10.1.2.3")), "from the address it connected to");
        assertFalse(FileReads.isLocal(at("10.1.2.4"), at("10.1.2.3")));
        assertFalse(FileReads.isLocal(InetSocketAddress.createUnresolved("host", 1), at("10.1.2.3")));
        assertFalse(FileReads.isLocal(new SocketAddress() { }, at("10.1.2.3")));
    }

    @Test
    void theDefaultSendsFromFilesToOtherHostsOnly() {
        assertEquals(FileReads.REMOTE, FileReads.configured());
        // EmbeddedChannel's addresses are not inet addresses: not on this host
        EmbeddedChannel remote = new EmbeddedChannel();
        assertTrue(FileReads.REMOTE.fromFile(false, remote));
        assertFalse(FileReads.REMOTE.fromFile(true, remote), "never under TLS");
        assertFalse(FileReads.NEVER.fromFile(false, remote));
        assertFalse(FileReads.ALWAYS.fromFile(true, remote));
        remote.finishAndReleaseAll();
    }

    @Test
    void thePropertyChoosesAndABadValueFallsBackToTheDefault() {
        System.setProperty(FileReads.PROPERTY, " Always ");
        assertEquals(FileReads.ALWAYS, FileReads.configured());
        System.setProperty(FileReads.PROPERTY, "never");
        assertEquals(FileReads.NEVER, FileReads.configured());
        System.setProperty(FileReads.PROPERTY, "sometimes");
        assertEquals(FileReads.REMOTE, FileReads.configured());
    }
}
