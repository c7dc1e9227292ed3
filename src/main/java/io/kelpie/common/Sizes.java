package io.kelpie.common;

import java.util.Locale;

/** Parses and prints byte sizes with K, M, G, T suffixes (powers of 1024). */
public final class Sizes {
    public static final long KiB = 1L << 10;
    public static final long MiB = 1L << 20;
    public static final long GiB = 1L << 30;
    public static final long TiB = 1L << 40;

    private Sizes() {
    }

    /** "10G", "512M", "4096", "1.5G"; throws IllegalArgumentException with a clear message. */
    public static long parse(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) {
            s = s.substring(0, s.length() - 1);
        }
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> unit = KiB;
                case 'M' -> unit = MiB;
                case 'G' -> unit = GiB;
                case 'T' -> unit = TiB;
                default -> unit = 1;
            }
        }
        if (unit != 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            if (s.contains(".")) {
                double v = Double.parseDouble(s) * unit;
                if (v < 0 || v > Long.MAX_VALUE) {
                    throw new NumberFormatException();
                }
                return (long) v;
            }
            long v = Long.parseLong(s);
            if (v < 0 || v > Long.MAX_VALUE / unit) {
                throw new NumberFormatException();
            }
            return v * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size '" + text + "' (use a number with an optional K, M, G or T suffix)");
        }
    }

    /** Human form: 4.0 GiB, 512 MiB, 100 B. */
    public static String format(long bytes) {
        if (bytes < KiB) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v)) + " " + units[u];
    }
}
