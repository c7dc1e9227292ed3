package io.kelpie.cli;

import io.kelpie.common.ClusterSecret;
import io.kelpie.common.KelpieException;
import io.kelpie.common.Status;
import io.kelpie.common.Transports;
import io.kelpie.peer.PeerAuth;
import io.kelpie.peer.PeerClient;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.PeerResponse;
import io.kelpie.peer.SecretRefused;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The CLI's connection to one node: a {@link PeerClient} on its own single event loop, blocking
 * admin calls that return the result payload or throw the node's error (status + message) as is.
 */
final class AdminClient implements AutoCloseable {
    /** Deleting or formatting large VDIs can take a while; a dead node is caught by the connection. */
    static final Duration ADMIN_TIMEOUT = Duration.ofMinutes(10);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final EventLoopGroup group;
    private final PeerClient client;

    private AdminClient(EventLoopGroup group, PeerClient client) {
        this.group = group;
        this.client = client;
    }

    static AdminClient connect(String address) {
        return connect(address, null);
    }

    /** With {@code secret}, the connection proves it before the first command (a node with one demands it). */
    static AdminClient connect(String address, ClusterSecret secret) {
        try {
            PeerClient.splitHostPort(address);
        } catch (IllegalArgumentException e) {
            throw new CliError(2, e.getMessage());
        }
        EventLoopGroup group = Transports.group(1);
        try {
            return new AdminClient(group, PeerClient.connect(address, group, CONNECT_TIMEOUT, CONNECT_TIMEOUT,
                    secret == null ? null : new PeerAuth(secret)));
        } catch (SecretRefused e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new KelpieException(Status.UNAUTHORIZED, e.getMessage()); // the exit status of a refusal, not of a dead node
        } catch (KelpieException e) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            throw new CliError(CliError.UNREACHABLE, e.getMessage());
        }
    }

    String address() {
        return client.address();
    }

    /** Sends a request asynchronously (for pipelined reads and writes). */
    CompletableFuture<PeerResponse> send(PeerRequest req) {
        return client.send(req, ADMIN_TIMEOUT);
    }

    /** An admin call without arguments. */
    ByteBuf call(int opcode) {
        return call(PeerRequest.withPayload(opcode, 0, 0, 0, 0, Unpooled.EMPTY_BUFFER));
    }

    /** An admin call; returns the result payload (the caller releases it) or throws the node's error. */
    ByteBuf call(PeerRequest req) {
        return await(send(req));
    }

    /** Waits for a response: its payload, or its error as a KelpieException, or CliError if the node is gone. */
    static ByteBuf await(CompletableFuture<PeerResponse> f) {
        PeerResponse r;
        try {
            r = f.join();
        } catch (CompletionException e) {
            throw lost(e);
        }
        if (!r.ok()) {
            String msg = r.errorMessage();
            Status st = r.status();
            r.release();
            throw new KelpieException(st, msg);
        }
        return r.payload();
    }

    private static RuntimeException lost(CompletionException e) {
        return new CliError(CliError.UNREACHABLE, KelpieException.messageOf(e));
    }

    @Override
    public void close() {
        client.close();
        group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).syncUninterruptibly();
    }
}
