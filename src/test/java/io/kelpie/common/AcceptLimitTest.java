package io.kelpie.common;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The limit as netty's acceptor would meet it: accepted children arrive as messages on the server channel. */
class AcceptLimitTest {
    private static final Logger LIMIT_LOG = (Logger) LoggerFactory.getLogger(AcceptLimit.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private AcceptLimit limit;
    private EmbeddedChannel server;

    @BeforeEach
    void listen() {
        logged.start();
        LIMIT_LOG.addAppender(logged);
    }

    @AfterEach
    void unlisten() {
        LIMIT_LOG.detachAppender(logged);
        if (server != null) {
            server.finishAndReleaseAll();
        }
    }

    /** Offers a new child; true if it went on to the acceptor. */
    private boolean accept(EmbeddedChannel child) {
        server.writeInbound(child);
        Object passed = server.readInbound();
        assertTrue(passed == null || passed == child);
        return passed == child;
    }

    @Test
    void admitsUpToTheLimitAndClosesTheRestAtOnce() {
        limit = new AcceptLimit("NBD", "--max-connections", 3);
        server = new EmbeddedChannel(limit);
        List<EmbeddedChannel> admitted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            EmbeddedChannel c = new EmbeddedChannel();
            assertTrue(accept(c), "child " + i + " is within the limit");
            assertTrue(c.isOpen());
            admitted.add(c);
        }
        assertEquals(3, limit.open());
        EmbeddedChannel fourth = new EmbeddedChannel();
        assertFalse(accept(fourth), "the fourth goes no further");
        assertFalse(fourth.isOpen(), "and is closed there and then");
        assertEquals(3, limit.open());
        assertEquals(1, limit.refused());
        admitted.forEach(c -> assertTrue(c.isOpen(), "a refusal leaves the admitted alone"));
    }

    @Test
    void aClosedConnectionGivesItsSlotBack() {
        limit = new AcceptLimit("peer", "--max-peer-connections", 2);
        server = new EmbeddedChannel(limit);
        EmbeddedChannel a = new EmbeddedChannel();
        EmbeddedChannel b = new EmbeddedChannel();
        assertTrue(accept(a));
        assertTrue(accept(b));
        assertFalse(accept(new EmbeddedChannel()));
        a.close(); // by either side: the close future is what counts
        assertEquals(1, limit.open());
        EmbeddedChannel c = new EmbeddedChannel();
        assertTrue(accept(c), "the slot a held is free again");
        assertFalse(accept(new EmbeddedChannel()));
        b.close();
        c.close();
        assertEquals(0, limit.open());
        for (int i = 0; i < 2; i++) {
            assertTrue(accept(new EmbeddedChannel()));
        }
        assertEquals(2, limit.open());
        assertEquals(2, limit.refused());
    }

    @Test
    void aFloodOfRefusalsIsOneWarning() {
        limit = new AcceptLimit("NBD", "--max-connections", 1);
        server = new EmbeddedChannel(limit);
        assertTrue(accept(new EmbeddedChannel()));
        for (int i = 0; i < 500; i++) {
            assertFalse(accept(new EmbeddedChannel()));
        }
        assertEquals(500, limit.refused());
        List<String> warnings = logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("--max-connections 1"), warnings.get(0));
    }

    @Test
    void otherMessagesPassThrough() {
        limit = new AcceptLimit("NBD", "--max-connections", 1);
        server = new EmbeddedChannel(limit);
        server.writeInbound("not a channel");
        assertEquals("not a channel", server.readInbound());
        assertEquals(0, limit.open());
    }

    @Test
    void aLimitBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new AcceptLimit("NBD", "--max-connections", 0));
    }
}
