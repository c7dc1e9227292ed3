package io.kelpie.systemd;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SdListenFdsTest {
    @Test
    void socketsMeantForAnotherProcessAreNotOurs() {
        SdListenFds fds = SdListenFds.of(Map.of("LISTEN_PID", "41", "LISTEN_FDS", "1"), 42);
        assertEquals(0, fds.count());
        assertEquals(OptionalInt.empty(), fds.find("nbd"));
        assertEquals(0, SdListenFds.of(Map.of(), 42).count());
    }

    @Test
    void namedSocketsAreFoundByName() {
        SdListenFds fds = SdListenFds.of(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "admin:nbd"), 42);
        assertEquals(List.of("admin", "nbd"), fds.names());
        assertEquals(OptionalInt.of(4), fds.find("nbd"));
        assertEquals(OptionalInt.empty(), fds.find("peer"));
    }

    @Test
    void aSingleSocketIsTheOneWhateverItsName() {
        SdListenFds fds = SdListenFds.of(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "kelpie-nbd.socket"), 42);
        assertEquals(OptionalInt.of(SdListenFds.FIRST_FD), fds.find("nbd"));
        assertEquals(List.of("unknown"), SdListenFds.of(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "1"), 42).names());
    }

    @Test
    void nonsenseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SdListenFds.of(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "x"), 42));
        assertThrows(IllegalArgumentException.class, () -> SdListenFds.of(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "-1"), 42));
    }
}
