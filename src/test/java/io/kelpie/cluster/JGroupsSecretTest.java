package io.kelpie.cluster;

import io.kelpie.common.ClusterSecret;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.stack.Protocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Kelpie's JGroups stack with a cluster secret, as real channels on loopback: members with the
 * same secret form one group and hear each other; a node with another secret, or none, is
 * refused by the members (they log it once) and never enters their view.
 */
@Timeout(120)
class JGroupsSecretTest {
    private static final ClusterSecret SECRET = ClusterSecret.of("members' secret".getBytes(StandardCharsets.UTF_8));
    private static final ClusterSecret OTHER = ClusterSecret.of("a stranger's secret".getBytes(StandardCharsets.UTF_8));

    private final List<JChannel> channels = new ArrayList<>();
    private final ExecutorService connecting = Executors.newCachedThreadPool();

    @AfterEach
    void close() {
        connecting.shutdownNow();
        for (JChannel ch : channels) {
            ch.close();
        }
    }

    private JChannel channel(int port, List<InetSocketAddress> hosts, ClusterSecret secret, String name) throws Exception {
        List<Protocol> stack = JGroupsDriver.stack("127.0.0.1", port, hosts, secret);
        if (name.startsWith("stranger")) {
            // one join attempt (2 s) instead of ten: the refusal, not the patience, is under test
            stack.stream().filter(p -> p instanceof GMS).forEach(p -> ((GMS) p).setMaxJoinAttempts(1));
        }
        JChannel ch = new JChannel(stack);
        ch.name(name);
        channels.add(ch);
        return ch;
    }

    @Test
    void onlyNodesWithTheSecretJoin() throws Exception {
        int p1 = FreePorts.pair();
        int p2 = FreePorts.pair();
        List<InetSocketAddress> first = List.of(new InetSocketAddress("127.0.0.1", p1));
        JChannel a = channel(p1, List.of(), SECRET, "a");
        a.connect(JGroupsDriver.CLUSTER_NAME);
        JChannel b = channel(p2, first, SECRET, "b");
        LinkedBlockingQueue<byte[]> heard = new LinkedBlockingQueue<>();
        a.setReceiver(new Receiver() {
            @Override
            public void receive(Message msg) {
                heard.add(Arrays.copyOfRange(msg.getArray(), msg.getOffset(), msg.getOffset() + msg.getLength()));
            }
        });
        b.connect(JGroupsDriver.CLUSTER_NAME);
        Harness.await("a and b in one view", 20_000, () -> a.getView().size() == 2 && b.getView().size() == 2);
        byte[] sent = "a catalogue operation naming vm-secret".getBytes(StandardCharsets.UTF_8);
        b.send(new BytesMessage(null, sent));
        byte[] got = heard.poll(10, TimeUnit.SECONDS);
        assertNotNull(got, "a did not hear b");
        assertArrayEquals(sent, got);

        SealedEncrypt sealA = a.getProtocolStack().findProtocol(SealedEncrypt.class);
        JChannel other = channel(FreePorts.pair(), first, OTHER, "stranger-other");
        JChannel none = channel(FreePorts.pair(), first, null, "stranger-none");
        List<Future<?>> joins = new ArrayList<>();
        for (JChannel stranger : List.of(other, none)) {
            joins.add(connecting.submit(() -> {
                stranger.connect(JGroupsDriver.CLUSTER_NAME); // its join times out: a group of its own
                return null;
            }));
        }
        // Both strangers reach a (discovery is below the seal) and are refused there.
        Harness.await("a refuses both strangers", 30_000, () -> sealA.refusedSenders() >= 2);
        assertEquals(List.of(a.getAddress(), b.getAddress()), a.getView().getMembers());
        assertEquals(List.of(a.getAddress(), b.getAddress()), b.getView().getMembers());
        for (Future<?> join : joins) {
            join.get(30, TimeUnit.SECONDS);
        }
        for (JChannel stranger : List.of(other, none)) {
            assertFalse(stranger.getView() != null && stranger.getView().containsMember(a.getAddress()),
                    stranger.getName() + " entered the members' view");
        }
    }
}
