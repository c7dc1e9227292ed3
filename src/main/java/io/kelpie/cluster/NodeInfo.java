package io.kelpie.cluster;

import io.kelpie.common.Fnv1a;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * A cluster member as every node sees it: a stable id (kept in the data directory), the peer
 * address HOST:PORT that other nodes and the CLI connect to, its failure zone, and its share of
 * the ring in virtual nodes. Part of every epoch's member list, so placement depends only on it.
 *
 * @param vnodes   virtual nodes on the ring, 0 for a gateway-only node
 * @param capacity bytes of disk the node reported when it joined (informational)
 */
public record NodeInfo(String id, String host, int port, String zone, int vnodes, long capacity) {

    /** Sheepdog's default vnodes per node; Kelpie gives that many per {@link #DEFAULT_VNODE_SPACE} of disk. */
    public static final int DEFAULT_VNODES = 128;
    public static final long DEFAULT_VNODE_SPACE = 16L << 30;
    public static final int MAX_VNODES = 65535;

    public NodeInfo {
        if (id == null || id.isEmpty() || host == null || host.isEmpty()) {
            throw new IllegalArgumentException("node id and host must be set");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("invalid port " + port);
        }
        if (vnodes < 0 || vnodes > MAX_VNODES) {
            throw new IllegalArgumentException("vnodes must be between 0 and " + MAX_VNODES);
        }
        if (zone == null || zone.isEmpty()) {
            zone = id;
        }
    }

    /** HOST:PORT, the address the peer protocol and CLI use. */
    public String address() {
        return host + ":" + port;
    }

    /**
     * Vnodes of a node: an explicit weight is the vnode count itself; weight 0 derives it from the
     * disk, 128 per 16 GiB (at least 128), so shares are proportional to capacity. Many vnodes
     * per node keep the shares even: with a few thousand the spread is a few percent.
     */
    public static int vnodesFor(long weight, long capacityBytes) {
        if (weight > MAX_VNODES) {
            throw new IllegalArgumentException("weight " + weight + " exceeds the maximum of " + MAX_VNODES + " vnodes");
        }
        if (weight > 0) {
            return (int) weight;
        }
        long units = Math.max(1, (capacityBytes + DEFAULT_VNODE_SPACE - 1) / DEFAULT_VNODE_SPACE);
        return (int) Math.min(MAX_VNODES, units * DEFAULT_VNODES);
    }

    /**
     * Sheepdog's ring seed: FNV-1a over the node's 16-byte address (IPv4 as ::ffff:a.b.c.d) and
     * its port, least significant byte first. A name that does not resolve hashes as text.
     */
    public long seed() {
        byte[] buf = new byte[18];
        byte[] addr;
        try {
            addr = InetAddress.getByName(host).getAddress();
        } catch (UnknownHostException e) {
            addr = host.getBytes(StandardCharsets.UTF_8);
        }
        if (addr.length == 4) {
            buf[10] = (byte) 0xff;
            buf[11] = (byte) 0xff;
            System.arraycopy(addr, 0, buf, 12, 4);
        } else {
            System.arraycopy(addr, 0, buf, 0, Math.min(16, addr.length));
        }
        buf[16] = (byte) port;
        buf[17] = (byte) (port >>> 8);
        return Fnv1a.hash(buf);
    }

    public void writeTo(DataOutput out) throws IOException {
        out.writeUTF(id);
        out.writeUTF(host);
        out.writeShort(port);
        out.writeUTF(zone);
        out.writeShort(vnodes);
        out.writeLong(capacity);
    }

    public static NodeInfo readFrom(DataInput in) throws IOException {
        String id = in.readUTF();
        String host = in.readUTF();
        int port = in.readUnsignedShort();
        String zone = in.readUTF();
        int vnodes = in.readUnsignedShort();
        long capacity = in.readLong();
        return new NodeInfo(id, host, port, zone, vnodes, capacity);
    }

    @Override
    public String toString() {
        return id + "@" + address();
    }
}
