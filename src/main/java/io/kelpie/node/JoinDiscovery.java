package io.kelpie.node;

import io.kelpie.cluster.ClusterDriver;
import io.kelpie.cluster.JGroupsDriver;
import io.kelpie.cluster.LocalHub;
import io.kelpie.common.ClusterSecret;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.peer.AdminMessages;
import io.kelpie.peer.PeerAuth;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.SecretRefused;
import io.kelpie.peer.WireReader;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The cluster driver a node joins with, and the members it finds through {@code --join}. */
final class JoinDiscovery {
    private static final Logger log = LoggerFactory.getLogger(JoinDiscovery.class);

    private JoinDiscovery() {
    }

    /**
     * JGroups on {@code --cluster-port}, discovering the members of {@code --join}; a node on port
     * 0 without a cluster port (in-process tests) gets a private in-JVM driver.
     */
    static ClusterDriver driver(NodeOptions options, EventLoopGroup group, String selfId, ClusterSecret secret) {
        if (options.port() == 0 && options.clusterPort() == 0) {
            if (!options.join().isEmpty()) {
                throw new KelpieException(Status.INVALID, "--join needs a fixed --port (or --cluster-port)");
            }
            return new LocalHub().newDriver();
        }
        List<InetSocketAddress> hosts = new ArrayList<>();
        for (String hp : members(options.join(), group, secret == null ? null : new PeerAuth(secret))) {
            String[] parts = PeerClient.splitHostPort(hp);
            // Peers listen for membership on their peer port + 1, as this node does by default.
            InetSocketAddress a = new InetSocketAddress(parts[0], Integer.parseInt(parts[1]) + 1);
            if (!hosts.contains(a)) {
                hosts.add(a);
            }
        }
        return new JGroupsDriver(options.bind(), options.effectiveClusterPort(), hosts, selfId, secret);
    }

    /**
     * The --join addresses plus every member they report: JGroups discovery must reach the
     * coordinator itself (which must learn this node's address), and --join may name any member.
     */
    private static List<String> members(List<String> join, EventLoopGroup group, PeerAuth auth) {
        List<String> all = new ArrayList<>(join);
        for (String hp : join) {
            try (PeerClient c = PeerClient.connect(hp, group, Duration.ofSeconds(3), Duration.ofSeconds(3), auth)) {
                PeerResponse r = c.send(PeerRequest.of(PeerConstants.NODE_LIST, 0, 0, 0, 0, 0), Duration.ofSeconds(10)).join();
                try {
                    if (r.status() == Status.UNAUTHORIZED) {
                        throw new SecretRefused(hp + " needs the cluster secret (node run --cluster-secret FILE)");
                    }
                    if (r.ok()) {
                        WireReader w = new WireReader(r.payload());
                        int n = AdminMessages.count(w);
                        for (int i = 0; i < n; i++) {
                            String a = AdminMessages.MemberInfo.read(w).address();
                            if (!all.contains(a)) {
                                all.add(a);
                            }
                        }
                        return all;
                    }
                } finally {
                    r.release();
                }
            } catch (SecretRefused e) {
                // Not a node that is down: the cluster (or this node) has another secret. Joining
                // anyway would found a cluster of one beside it; stop with the reason instead.
                throw refused(auth != null, e.getMessage());
            } catch (RuntimeException e) {
                log.debug("asking {} for the cluster's members failed: {}", hp, KelpieException.messageOf(e));
            }
        }
        return all;
    }

    private static KelpieException refused(boolean haveSecret, String why) {
        String line = (haveSecret ? "cannot join: the cluster refused our secret: " : "cannot join: the cluster refused us: ") + why;
        log.error(line);
        return new KelpieException(Status.UNAUTHORIZED, line);
    }
}
