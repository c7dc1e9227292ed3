package io.kelpie.fuzz;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelId;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * The last inbound handler of a fuzzed pipeline: keeps what was decoded, and every exception that
 * reached the end of the pipeline, which it answers as a server handler would, by closing.
 */
public final class Sink extends ChannelInboundHandlerAdapter {
    public final List<Object> messages = new ArrayList<>();
    public final List<Throwable> errors = new ArrayList<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        messages.add(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        errors.add(cause);
        ctx.close();
    }

    public void releaseAll() {
        messages.forEach(ReferenceCountUtil::release);
        messages.clear();
    }

    /** A registered channel whose allocator is {@code alloc} from the first handler on. */
    public static EmbeddedChannel channel(TrackingAllocator alloc, ChannelHandler... handlers) {
        ChannelId id = DefaultChannelId.newInstance();
        EmbeddedChannel ch = new EmbeddedChannel(id, false, false);
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(handlers);
        try {
            ch.register();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return ch;
    }

    /** Feeds the pieces one by one; pieces that arrive after the channel closed are dropped as a socket would. */
    public static void feed(EmbeddedChannel ch, List<ByteBuf> pieces) {
        for (ByteBuf b : pieces) {
            if (ch.isOpen()) {
                ch.writeInbound(b);
                ch.runPendingTasks();
            } else {
                b.release();
            }
        }
    }
}
