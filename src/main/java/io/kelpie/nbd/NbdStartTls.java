package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

import static io.kelpie.nbd.NbdConstants.*;
import static io.kelpie.nbd.NbdOptionReplies.ack;
import static io.kelpie.nbd.NbdOptionReplies.error;

/**
 * One connection's TLS during the handshake: the answer to NBD_OPT_STARTTLS, the upgrade itself,
 * the FORCEDTLS gate on every other option, and the client's identity for the exports.
 */
final class NbdStartTls {
    private static final Logger log = LoggerFactory.getLogger(NbdStartTls.class);

    /** What became of a STARTTLS. */
    enum Outcome { REFUSED, UPGRADING, EARLY_DATA }

    private final NbdTls tls;
    private SslHandler handler;

    NbdStartTls(NbdTls tls) {
        this.tls = tls;
    }

    /** Whether {@code opt} must be refused (TLS_REQD) because TLS is required and not set up yet. */
    boolean mustUpgradeFirst(int opt) {
        return tls.mode() == NbdTls.Mode.REQUIRE && handler == null && opt != NBD_OPT_STARTTLS && opt != NBD_OPT_ABORT;
    }

    /**
     * Answers NBD_OPT_STARTTLS. On success the ACK is written in plaintext (it is in the channel's
     * outbound buffer before the TLS handler exists, so it leaves first) and the TLS handler goes
     * first in the pipeline: every byte read from now on is TLS. UPGRADING: TLS is being set up;
     * the handshake then forgets what plaintext negotiated (a man in the middle could have).
     * REFUSED: an error reply was written and the session goes on in plaintext.
     *
     * @param pending whether the client already sent bytes after STARTTLS: EARLY_DATA, nothing is
     *                written and the caller drops the connection. Those bytes cannot be the TLS it
     *                was not yet told to start, and taking them as options would let plaintext
     *                injected before the upgrade pass as protected (as CVE-2021-3716 did in qemu)
     */
    Outcome answer(ChannelHandlerContext ctx, ByteBuf data, boolean pending) {
        if (data.isReadable()) {
            error(ctx, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
        } else if (tls.mode() == NbdTls.Mode.OFF) {
            error(ctx, NBD_OPT_STARTTLS, NBD_REP_ERR_POLICY, "TLS is not enabled on this server (node run --tls on)");
        } else if (handler != null) {
            error(ctx, NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID, "TLS is already negotiated");
        } else if (pending) {
            return Outcome.EARLY_DATA;
        } else {
            ack(ctx, NBD_OPT_STARTTLS);
            ctx.flush();
            handler = tls.newHandler(ctx.alloc());
            ctx.pipeline().addFirst("nbd-tls", handler);
            handler.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                    log.debug("NBD client {}: TLS {} set up", ctx.channel().remoteAddress(), handler.engine().getSession().getProtocol());
                } else {
                    log.info("NBD client {}: TLS handshake failed: {}", ctx.channel().remoteAddress(), f.cause().toString());
                }
            });
            return Outcome.UPGRADING;
        }
        return Outcome.REFUSED;
    }

    /** The client as the exports see it: its address and, after a verified TLS handshake, its certificate's CN. */
    NbdClient client(ChannelHandlerContext ctx) {
        return new NbdClient(ctx.channel().remoteAddress(), handler != null, handler == null ? null : verifiedName(handler));
    }

    /** The CN of the peer certificate the engine verified; null when it asked for none. */
    private static String verifiedName(SslHandler h) {
        Certificate[] chain;
        try {
            chain = h.engine().getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate c)) {
            return null;
        }
        return commonName(c.getSubjectX500Principal().getName());
    }

    /** The (last) CN of an RFC 2253 name, null without one. */
    static String commonName(String dn) {
        try {
            String cn = null;
            for (Rdn rdn : new LdapName(dn).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = rdn.getValue().toString();
                }
            }
            return cn;
        } catch (InvalidNameException e) {
            return null;
        }
    }
}
