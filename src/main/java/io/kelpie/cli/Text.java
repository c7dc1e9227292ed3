package io.kelpie.cli;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** Formatting helpers for human-readable output. */
final class Text {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneId.systemDefault());

    private Text() {
    }

    static String time(long epochMillis) {
        return epochMillis == 0 ? "-" : TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    static String isoTime(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }

    static String vid(int vid) {
        return String.format("%06x", vid);
    }

    static String oid(long oid) {
        return String.format("%016x", oid);
    }
}
