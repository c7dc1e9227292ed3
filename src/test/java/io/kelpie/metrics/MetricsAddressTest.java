package io.kelpie.metrics;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.*;

class MetricsAddressTest {
    @Test
    void hostAndPort() {
        InetSocketAddress a = MetricsAddress.parse("127.0.0.1:9100");
        assertEquals("127.0.0.1", a.getAddress().getHostAddress());
        assertEquals(9100, a.getPort());
        assertEquals(0, MetricsAddress.parse("localhost:0").getPort());
        assertEquals("0:0:0:0:0:0:0:1", MetricsAddress.parse("[::1]:9100").getAddress().getHostAddress());
        assertTrue(MetricsAddress.parse("0.0.0.0:9100").getAddress().isAnyLocalAddress());
    }

    @Test
    void whatIsNotAnAddressSaysWhy() {
        for (String bad : new String[] {"9100", ":9100", "127.0.0.1:", "127.0.0.1:x", "127.0.0.1:65536", "127.0.0.1:-1",
                "::1:9100", "[::1]9100"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MetricsAddress.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--metrics takes HOST:PORT"), e.getMessage());
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }
}
