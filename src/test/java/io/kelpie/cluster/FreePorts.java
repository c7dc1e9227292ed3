package io.kelpie.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free loopback ports for tests that run beside other developers' tests. */
public final class FreePorts {
    private FreePorts() {
    }

    /** A free port whose successor is free too (a node's peer port and its membership port). */
    public static int pair() throws IOException {
        for (int attempt = 0; attempt < 100; attempt++) {
            int p;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                p = s.getLocalPort();
            }
            if (p < 65535 && free(p + 1)) {
                return p;
            }
        }
        throw new IOException("no free port pair found");
    }

    public static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
