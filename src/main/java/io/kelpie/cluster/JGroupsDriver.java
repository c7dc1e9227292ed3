package io.kelpie.cluster;

import io.kelpie.common.ClusterSecret;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.SERIALIZE;
import org.jgroups.protocols.SEQUENCER;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.Protocol;
import org.jgroups.util.Util;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link ClusterDriver} over embedded JGroups: TCP with static discovery of the {@code --join}
 * list (no multicast), failure detection by FD_SOCK2 (instant on a closed socket) and FD_ALL3
 * (heartbeats), total order by SEQUENCER. JGroups decides membership; {@link OrderedDriver}
 * turns its views into ordered JOIN/LEAVE events.
 */
public final class JGroupsDriver extends OrderedDriver {
    public static final String CLUSTER_NAME = "kelpie";
    static final int FD_SOCK_OFFSET = -5000;

    /**
     * @param bindHost     address to bind (the node's --bind)
     * @param bindPort     JGroups port of this node
     * @param initialHosts JGroups HOST:PORT of nodes to discover (this one may be among them)
     */
    public JGroupsDriver(String bindHost, int bindPort, List<InetSocketAddress> initialHosts, String name) {
        this(bindHost, bindPort, initialHosts, name, null);
    }

    /** ... whose group traffic is sealed with {@code secret} (null: none), so only nodes with it can join. */
    public JGroupsDriver(String bindHost, int bindPort, List<InetSocketAddress> initialHosts, String name,
                         ClusterSecret secret) {
        super(new ChannelTransport(bindHost, bindPort, initialHosts, name, secret), "kelpie-cluster-" + name);
    }

    /** Closes the sockets without leaving, as a killed process would (tests). */
    @Override
    public void crash() {
        super.crash();
    }

    /** The JGroups stack, built in code so that a node needs no XML. */
    static List<Protocol> stack(String bindHost, int bindPort, List<InetSocketAddress> initialHosts, ClusterSecret secret)
            throws IOException {
        InetAddress bind = InetAddress.getByName(bindHost);
        TCP tcp = new TCP();
        tcp.setBindAddress(bind);
        tcp.setBindPort(bindPort);
        tcp.setPortRange(0);
        List<InetSocketAddress> hosts = new ArrayList<>(initialHosts);
        InetSocketAddress me = new InetSocketAddress(bind, bindPort);
        if (!hosts.contains(me)) {
            hosts.add(me);
        }
        TCPPING ping = new TCPPING();
        ping.setInitialHosts(hosts);
        ping.setPortRange(0);
        // A node may list only some members in --join: responders return every member they know,
        // so the joiner learns the coordinator's address even when it did not list it.
        ping.returnEntireCache(true);
        // A stopped (SIGSTOP) or cut-off node sends no heartbeats and keeps its sockets open, so
        // only FD_ALL3 finds it: suspected once no heartbeat came for 3 s (checked every 750 ms),
        // then VERIFY_SUSPECT2 gives it 1 s more before the view excludes it - at worst about
        // 3 + 0.75 + 1 = 4.75 s, within the 5 s a client may wait. Heartbeats go every 750 ms, so
        // a suspicion needs four in a row to be lost or late: a loaded 2-core machine delays a
        // timer thread by tens of milliseconds, not seconds. A false suspicion costs a rejoin,
        // not data: the removed node takes the cluster's state afresh.
        FD_ALL3 heartbeat = new FD_ALL3();
        heartbeat.setTimeout(3000);
        heartbeat.setInterval(750);
        VERIFY_SUSPECT2 verify = new VERIFY_SUSPECT2();
        verify.setTimeout(1000);
        GMS gms = new GMS();
        gms.printLocalAddress(false); // the node logs its own one-line start message; no banner on stdout
        // Alone (no --join), only this node could answer discovery: do not wait long for others.
        gms.setJoinTimeout(initialHosts.isEmpty() ? 500 : 2000);
        // After a partition heals (or a paused node resumes), MERGE3 notices the split views from
        // its periodic INFO messages and merges them; every 1-3 s keeps a heal within seconds.
        MERGE3 merge = new MERGE3();
        merge.setMinInterval(1000);
        merge.setMaxInterval(3000);
        FD_SOCK2 sock = new FD_SOCK2();
        sock.setBindAddress(bind);
        // FD_SOCK2 listens at the JGroups port + offset (the same offset on every node). JGroups'
        // default, +100, lands on the membership port of a node whose peer port is 100 higher
        // (7000 and 7100, say); 5000 below is out of the way of any usual port layout.
        sock.setOffset(FD_SOCK_OFFSET);
        sock.setPortRange(5);
        List<Protocol> stack = new ArrayList<>(List.of(tcp, ping, merge, sock, heartbeat, verify));
        if (secret != null) {
            // The JGroups manual places SYM_ENCRYPT directly under NAKACK2 (so retransmissions are
            // sealed too), with SERIALIZE above it to take the headers into the sealed payload.
            // Below it stay discovery, merge probes and failure detection: addresses and
            // heartbeats only. Everything above - joins, views, the ordered catalogue - is sealed.
            stack.add(new SealedEncrypt(secret));
            stack.add(new SERIALIZE());
        }
        stack.addAll(List.of(new NAKACK2(), new UNICAST3(), new STABLE(), gms, new SEQUENCER(), new FRAG4()));
        return stack;
    }

    static final class ChannelTransport implements Transport, Receiver {
        private final String bindHost;
        private final int bindPort;
        private final List<InetSocketAddress> initialHosts;
        private final String name;
        private final ClusterSecret secret;
        private volatile JChannel channel;
        private volatile Handler handler;

        ChannelTransport(String bindHost, int bindPort, List<InetSocketAddress> initialHosts, String name,
                         ClusterSecret secret) {
            this.secret = secret;
            this.bindHost = bindHost;
            this.bindPort = bindPort;
            this.initialHosts = List.copyOf(initialHosts);
            this.name = name;
        }

        @Override
        public void start(Handler h) throws Exception {
            handler = h;
            JChannel ch = new JChannel(stack(bindHost, bindPort, initialHosts, secret));
            ch.name(name);
            ch.setReceiver(this);
            channel = ch;
            try {
                ch.connect(CLUSTER_NAME);
            } catch (Exception e) {
                ch.close();
                throw new IOException("cannot open cluster port " + bindHost + ":" + bindPort + ": "
                        + io.kelpie.common.KelpieException.messageOf(e), e);
            }
        }

        @Override
        public Object self() {
            return channel.getAddress();
        }

        @Override
        public List<Object> view() {
            View v = channel.view();
            return v == null ? List.of() : new ArrayList<>(v.getMembers());
        }

        @Override
        public void multicast(byte[] message) throws Exception {
            channel.send(new BytesMessage(null, message));
        }

        @Override
        public void unicast(Object to, byte[] message) throws Exception {
            channel.send(new BytesMessage((Address) to, message));
        }

        @Override
        public void writeAddress(Object address, DataOutput out) throws IOException {
            Util.writeAddress((Address) address, out);
        }

        @Override
        public Object readAddress(DataInput in) throws IOException {
            try {
                return Util.readAddress(in);
            } catch (ClassNotFoundException e) {
                throw new IOException(e);
            }
        }

        @Override
        public void receive(Message msg) {
            byte[] body = Arrays.copyOfRange(msg.getArray(), msg.getOffset(), msg.getOffset() + msg.getLength());
            if (msg.getDest() == null) {
                handler.ordered(msg.getSrc(), body);
            } else {
                handler.unicast(msg.getSrc(), body);
            }
        }

        @Override
        public void viewAccepted(View view) {
            Handler h = handler;
            if (h != null) {
                h.view(new ArrayList<>(view.getMembers()));
            }
        }

        @Override
        public void kill() {
            JChannel ch = channel;
            if (ch != null) {
                try {
                    Util.shutdown(ch);
                } catch (Exception e) {
                    ch.close();
                }
            }
        }

        @Override
        public void close() {
            JChannel ch = channel;
            if (ch != null) {
                ch.close();
            }
        }
    }
}
