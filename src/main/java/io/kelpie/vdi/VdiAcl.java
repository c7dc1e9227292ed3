package io.kelpie.vdi;

import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who may open a VDI over NBD, kept as the VDI attribute {@link #ATTRIBUTE} (so it is decided in
 * the cluster's order and copied to every node like any attribute): lines of {@code allow ENTRY}
 * or {@code deny ENTRY}, where an entry is {@code cn:NAME} (the CN of a client certificate that
 * TLS verified) or {@code addr:ADDRESS[/PREFIX]} (IPv4 or IPv6, a host or a CIDR range).
 *
 * <p>A client is refused when a deny entry matches it, or when there are allow entries and none
 * matches; an empty list (no attribute) is open to all. A value that does not parse refuses
 * everyone: an access list that cannot be read must not fail open.
 */
public final class VdiAcl {
    public static final String ATTRIBUTE = "kelpie.acl";
    public static final VdiAcl OPEN = new VdiAcl(new LinkedHashMap<>());

    /** Entry (as written) to true for allow, false for deny; in the order they were added. */
    private final Map<String, Boolean> entries;
    private final String malformed;

    private VdiAcl(Map<String, Boolean> entries) {
        this.entries = entries;
        this.malformed = null;
    }

    private VdiAcl(String malformed) {
        this.entries = new LinkedHashMap<>();
        this.malformed = malformed;
    }

    /** The list an attribute value holds; null (no attribute) is {@link #OPEN}. Never throws. */
    public static VdiAcl decode(byte[] value) {
        if (value == null) {
            return OPEN;
        }
        Map<String, Boolean> m = new LinkedHashMap<>();
        for (String line : new String(value, StandardCharsets.UTF_8).split("\n")) {
            String l = line.strip();
            if (l.isEmpty()) {
                continue;
            }
            String[] w = l.split("\\s+");
            if (w.length != 2 || !(w[0].equals("allow") || w[0].equals("deny"))) {
                return new VdiAcl("line '" + l + "' is not 'allow ENTRY' or 'deny ENTRY'");
            }
            try {
                m.put(normalize(w[1]), w[0].equals("allow"));
            } catch (KelpieException e) {
                return new VdiAcl(e.getMessage());
            }
        }
        return new VdiAcl(m);
    }

    public byte[] encode() {
        StringBuilder b = new StringBuilder();
        entries.forEach((e, allow) -> b.append(allow ? "allow " : "deny ").append(e).append('\n'));
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A copy with {@code entry} allowed (or denied): an entry is in the list once, with its last verdict. */
    public VdiAcl with(String entry, boolean allow) {
        Map<String, Boolean> m = new LinkedHashMap<>(entries);
        String e = normalize(entry);
        m.remove(e);
        m.put(e, allow);
        return new VdiAcl(m);
    }

    /** A copy without {@code entry}; false from {@link #contains} tells the caller it was not there. */
    public VdiAcl without(String entry) {
        Map<String, Boolean> m = new LinkedHashMap<>(entries);
        m.remove(normalize(entry));
        return new VdiAcl(m);
    }

    public boolean contains(String entry) {
        return entries.containsKey(normalize(entry));
    }

    public boolean isEmpty() {
        return entries.isEmpty() && malformed == null;
    }

    /** The lines, for listing. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        entries.forEach((e, allow) -> out.add((allow ? "allow " : "deny ") + e));
        return out;
    }

    /**
     * Null when the client may open the VDI, else why not (for the refusal's message).
     *
     * @param address    the client's address, null if unknown
     * @param commonName the CN of its verified certificate, null without one
     */
    public String refusal(InetAddress address, String commonName) {
        if (malformed != null) {
            return "its access list is malformed (" + malformed + ")";
        }
        boolean anyAllow = false;
        boolean allowed = false;
        for (Map.Entry<String, Boolean> e : entries.entrySet()) {
            boolean match = matches(e.getKey(), address, commonName);
            if (match && !e.getValue()) {
                return "its access list denies " + e.getKey();
            }
            anyAllow |= e.getValue();
            allowed |= match && e.getValue();
        }
        return !anyAllow || allowed ? null : "its access list does not allow this client";
    }

    private static boolean matches(String entry, InetAddress address, String commonName) {
        if (entry.startsWith("cn:")) {
            return commonName != null && entry.substring(3).equals(commonName);
        }
        if (address == null) {
            return false;
        }
        String a = entry.substring(5);
        int slash = a.indexOf('/');
        byte[] net = literal(slash < 0 ? a : a.substring(0, slash)).getAddress();
        byte[] got = address.getAddress();
        if (net.length != got.length) {
            return false;
        }
        int prefix = slash < 0 ? net.length * 8 : Integer.parseInt(a.substring(slash + 1));
        for (int i = 0; i < prefix; i++) {
            int mask = 0x80 >> (i % 8);
            if ((net[i / 8] & mask) != (got[i / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Checks an entry and writes it one way: {@code cn:NAME}, or {@code addr:} with the address in
     * canonical form; a bare address or CIDR is taken as {@code addr:}.
     */
    public static String normalize(String entry) {
        if (entry.startsWith("cn:")) {
            if (entry.length() == 3 || entry.chars().anyMatch(Character::isWhitespace)) {
                throw bad(entry, "a cn: entry needs a name without spaces");
            }
            return entry;
        }
        String a = entry.startsWith("addr:") ? entry.substring(5) : entry;
        int slash = a.indexOf('/');
        InetAddress ip = literal(slash < 0 ? a : a.substring(0, slash));
        int bits = ip.getAddress().length * 8;
        if (slash < 0) {
            return "addr:" + ip.getHostAddress();
        }
        int prefix;
        try {
            prefix = Integer.parseInt(a.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw bad(entry, "the prefix after / is not a number");
        }
        if (prefix < 0 || prefix > bits) {
            throw bad(entry, "the prefix must be 0 to " + bits);
        }
        return "addr:" + ip.getHostAddress() + "/" + prefix;
    }

    /** An IP address literal; never a name lookup (a list that depended on DNS could be steered by it). */
    private static InetAddress literal(String s) {
        boolean v4 = s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = s.contains(":") && s.matches("[0-9a-fA-F:.]+");
        if (!v4 && !v6) {
            throw bad(s, "not cn:NAME or an IP address (addr:10.0.0.0/8, addr:127.0.0.2)");
        }
        try {
            if (v4) {
                byte[] b = new byte[4];
                String[] parts = s.split("\\.");
                for (int i = 0; i < 4; i++) {
                    int n = Integer.parseInt(parts[i]);
                    if (n > 255) {
                        throw bad(s, "not a valid IPv4 address");
                    }
                    b[i] = (byte) n;
                }
                return InetAddress.getByAddress(b);
            }
            return InetAddress.getByName(s); // an IPv6 literal: parsed, never looked up
        } catch (UnknownHostException e) {
            throw bad(s, "not a valid IP address");
        }
    }

    private static KelpieException bad(String entry, String why) {
        return new KelpieException(Status.INVALID, "bad access list entry '" + entry + "': " + why);
    }
}
