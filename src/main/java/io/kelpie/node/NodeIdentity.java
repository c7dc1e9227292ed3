package io.kelpie.node;

import io.kelpie.cluster.NodeInfo;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.config.DataDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/** Who this node is to the cluster: its stable id, address, zone and weight on the ring. */
final class NodeIdentity {
    static final String FILE = "node.id";

    private NodeIdentity() {
    }

    /** This node as the cluster sees it, its peer server listening on {@code port}. */
    static NodeInfo of(DataDir dataDir, NodeOptions options, int port) throws IOException {
        long capacity = Files.getFileStore(options.dir()).getTotalSpace();
        int vnodes;
        try {
            vnodes = NodeInfo.vnodesFor(options.weight(), capacity);
        } catch (IllegalArgumentException e) {
            throw new KelpieException(Status.INVALID, e.getMessage());
        }
        return new NodeInfo(id(dataDir), options.bind(), port, options.zone(), vnodes, capacity);
    }

    /** 8 hex digits, made once per data directory and kept in {@code DIR/node.id}. */
    static String id(DataDir dataDir) throws IOException {
        Path p = dataDir.resolve(FILE);
        if (Files.exists(p)) {
            String id = Files.readString(p, StandardCharsets.UTF_8).trim();
            if (!id.isEmpty()) {
                return id;
            }
        }
        byte[] b = new byte[4];
        ThreadLocalRandom.current().nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        dataDir.writeAtomically(FILE, out -> out.write((id + "\n").getBytes(StandardCharsets.UTF_8)));
        return id;
    }
}
