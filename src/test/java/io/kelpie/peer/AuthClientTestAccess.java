package io.kelpie.peer;

import io.netty.channel.ChannelHandler;

import java.util.concurrent.CompletableFuture;

/** The client handshake handler, for tests of the handshake in other packages. */
public final class AuthClientTestAccess {
    private AuthClientTestAccess() {
    }

    public record Handshake(ChannelHandler handler, CompletableFuture<Void> done) {
    }

    public static Handshake handler(PeerAuth auth) {
        AuthClientHandler h = new AuthClientHandler(auth);
        return new Handshake(h, h.done());
    }
}
