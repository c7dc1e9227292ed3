package io.kelpie.nbd;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

import java.util.Objects;

/**
 * Whether and how a server speaks TLS during the handshake (NBD_OPT_STARTTLS): OFF answers
 * STARTTLS with NBD_REP_ERR_POLICY; ON upgrades a client that asks and serves plaintext too
 * (SELECTIVETLS with no TLS-only export); REQUIRE answers every other option with
 * NBD_REP_ERR_TLS_REQD until the client upgraded (the spec's FORCEDTLS). The context is the
 * server's; whoever builds it decides on client certificates.
 */
public final class NbdTls {
    public enum Mode { OFF, ON, REQUIRE }

    public static final NbdTls OFF = new NbdTls(Mode.OFF, null);

    private final Mode mode;
    private final SslContext context;

    private NbdTls(Mode mode, SslContext context) {
        this.mode = mode;
        this.context = context;
    }

    /** TLS offered (ON) or required (REQUIRE) with this server context. */
    public static NbdTls of(Mode mode, SslContext context) {
        if (mode == Mode.OFF) {
            return OFF;
        }
        return new NbdTls(mode, Objects.requireNonNull(context, "a TLS mode needs a server context"));
    }

    public Mode mode() {
        return mode;
    }

    /** A handler for one connection that sent STARTTLS. */
    SslHandler newHandler(ByteBufAllocator alloc) {
        return context.newHandler(alloc);
    }
}
