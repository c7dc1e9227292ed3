package io.kelpie.metrics;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** {@code node run --metrics HOST:PORT}: an address to listen on, checked before any port opens. */
public final class MetricsAddress {
    private MetricsAddress() {
    }

    /**
     * Parses {@code HOST:PORT} ({@code [v6]:PORT} for IPv6); PORT 0 takes any free port.
     *
     * @throws IllegalArgumentException with a message for the user when it is not one
     */
    public static InetSocketAddress parse(String s) {
        String usage = "--metrics takes HOST:PORT to serve /metrics on (e.g. 127.0.0.1:9100), not '" + s + "'";
        int colon = s == null ? -1 : s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException(usage);
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(usage + ": write an IPv6 address in brackets, [::1]:9100");
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(usage + ": the port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(usage + ": the port must be 0 to 65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(usage + ": unknown host '" + host + "'");
        }
    }

    /** HOST:PORT as a user would write it back. */
    static String format(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
