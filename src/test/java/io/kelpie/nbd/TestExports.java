package io.kelpie.nbd;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** In-memory exports for handshake tests; records the session and the requests that reach transmission. */
class TestExports implements NbdExports {
    final Map<String, NbdExportInfo> exports = new LinkedHashMap<>();
    final List<NbdRequest> requests = new ArrayList<>();
    NbdSession session;
    int opened;
    int closed;
    /** Names whose open is refused as in use elsewhere. */
    final java.util.Set<String> busy = new java.util.HashSet<>();

    TestExports add(String name, long size, boolean readOnly) {
        exports.put(name, new NbdExportInfo(name, "test export " + name, size, readOnly));
        return this;
    }

    @Override
    public CompletableFuture<List<NbdExportInfo>> list(NbdClient client) {
        return CompletableFuture.completedFuture(new ArrayList<>(exports.values()));
    }

    @Override
    public CompletableFuture<NbdExportInfo> find(String name, NbdClient client) {
        NbdExportInfo info = exports.get(name);
        return info != null ? CompletableFuture.completedFuture(info)
                : CompletableFuture.failedFuture(new IllegalArgumentException("no export '" + name + "'"));
    }

    @Override
    public CompletableFuture<NbdExport> open(String name, NbdClient client) {
        if (busy.contains(name)) {
            return CompletableFuture.failedFuture(new java.util.concurrent.CompletionException(
                    new NbdExportRefused(NbdConstants.NBD_REP_ERR_POLICY, "export '" + name + "' is in use on another node")));
        }
        return find(name, client).thenApply(info -> {
            opened++;
            return new NbdExport() {
                @Override
                public NbdExportInfo info() {
                    return info;
                }

                @Override
                public void close() {
                    closed++;
                }
            };
        });
    }

    @Override
    public ChannelHandler transmissionHandler(NbdSession s) {
        session = s;
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                NbdRequest r = (NbdRequest) msg;
                requests.add(new NbdRequest(r.flags(), r.type(), r.cookie(), r.offset(), r.length(),
                        io.netty.buffer.Unpooled.copiedBuffer(r.content())));
                r.release();
            }
        };
    }
}
