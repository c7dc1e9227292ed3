package io.kelpie.frontend;

import io.netty.channel.DefaultMessageSizeEstimator;
import io.netty.channel.FileRegion;
import io.netty.channel.MessageSizeEstimator;

/**
 * Counts a file region queued for sending by its length, as netty counts a buffer (netty's own
 * estimator counts it as 0): replies sent from files must hold back a client that does not read
 * them as replies in buffers do, through the channel's writability.
 */
final class ReplySizes implements MessageSizeEstimator {
    static final ReplySizes INSTANCE = new ReplySizes();
    private static final Handle HANDLE = new Handle() {
        private final Handle buffers = DefaultMessageSizeEstimator.DEFAULT.newHandle();

        @Override
        public int size(Object msg) {
            return msg instanceof FileRegion r ? (int) Math.min(Integer.MAX_VALUE, r.count()) : buffers.size(msg);
        }
    };

    private ReplySizes() {
    }

    @Override
    public Handle newHandle() {
        return HANDLE;
    }
}
