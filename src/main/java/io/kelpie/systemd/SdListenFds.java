package io.kelpie.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The listening sockets systemd passed to this process (socket activation, sd_listen_fds(3)):
 * {@code $LISTEN_FDS} descriptors from 3 on, meant for us only if {@code $LISTEN_PID} is our pid (a
 * child that inherited the environment must not take them), named by {@code $LISTEN_FDNAMES}
 * (the socket unit's {@code FileDescriptorName=}, else the unit's name).
 */
public final class SdListenFds {
    /** The first descriptor systemd passes ({@code SD_LISTEN_FDS_START}). */
    public static final int FIRST_FD = 3;

    private final List<String> names;

    private SdListenFds(List<String> names) {
        this.names = names;
    }

    /** What this process was given: none when not socket-activated. */
    public static SdListenFds of(Map<String, String> env, long pid) {
        String forPid = env.get("LISTEN_PID");
        String count = env.get("LISTEN_FDS");
        if (forPid == null || count == null || !forPid.trim().equals(Long.toString(pid))) {
            return new SdListenFds(List.of());
        }
        int n;
        try {
            n = Integer.parseInt(count.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LISTEN_FDS is not a number: '" + count + "'");
        }
        if (n < 0 || n > 1024) {
            throw new IllegalArgumentException("LISTEN_FDS out of range: " + n);
        }
        String[] given = env.getOrDefault("LISTEN_FDNAMES", "").split(":", -1);
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(i < given.length && !given[i].isEmpty() ? given[i] : "unknown");
        }
        return new SdListenFds(List.copyOf(names));
    }

    public static SdListenFds fromEnvironment() {
        return of(System.getenv(), ProcessHandle.current().pid());
    }

    public int count() {
        return names.size();
    }

    /** The names, in descriptor order (descriptor {@code FIRST_FD + i} is {@code names().get(i)}). */
    public List<String> names() {
        return names;
    }

    /**
     * The descriptor named {@code name}; with no descriptor of that name but exactly one passed,
     * that one (a socket unit without {@code FileDescriptorName=}); otherwise none.
     */
    public OptionalInt find(String name) {
        int i = names.indexOf(name);
        if (i >= 0) {
            return OptionalInt.of(FIRST_FD + i);
        }
        return names.size() == 1 ? OptionalInt.of(FIRST_FD) : OptionalInt.empty();
    }

    /**
     * What kind of socket descriptor {@code fd} of this process is: "tcp" for a listening TCP
     * socket (v4 or v6), "unix", "udp", "other socket" or "not a socket". Read from /proc, as
     * the JDK cannot ask a bare descriptor (netty would take any socket for TCP).
     */
    public static String kind(int fd) {
        String link;
        try {
            link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "not open";
        }
        if (!link.startsWith("socket:[")) {
            return "not a socket (" + link + ")";
        }
        String inode = link.substring("socket:[".length(), link.length() - 1);
        if (listensOn("/proc/net/tcp", inode) || listensOn("/proc/net/tcp6", inode)) {
            return "tcp";
        }
        for (String k : new String[] {"unix", "udp", "udp6", "tcp", "tcp6"}) {
            if (holds("/proc/net/" + k, inode)) {
                return k.startsWith("tcp") ? "tcp socket that does not listen" : k.replace("6", "");
            }
        }
        return "other socket";
    }

    private static boolean listensOn(String table, String inode) {
        return rows(table).anyMatch(r -> r.length > 9 && r[3].equals("0A") && r[9].equals(inode)); // 0A: TCP_LISTEN
    }

    private static boolean holds(String table, String inode) {
        // /proc/net/unix has the inode in column 7, the ip tables in column 10
        return rows(table).anyMatch(r -> r.length > 9 ? r[9].equals(inode) : r.length > 6 && r[6].equals(inode));
    }

    private static java.util.stream.Stream<String[]> rows(String table) {
        try {
            return Files.readAllLines(Path.of(table)).stream().skip(1).map(l -> l.trim().split("\\s+"));
        } catch (IOException e) {
            return java.util.stream.Stream.empty();
        }
    }
}
