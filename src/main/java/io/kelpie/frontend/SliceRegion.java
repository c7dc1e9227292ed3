package io.kelpie.frontend;

import io.kelpie.store.FileSlice;
import io.netty.channel.DefaultFileRegion;

/**
 * A verified {@link FileSlice} as netty sends a file: by sendfile(2) on the epoll transport
 * (which takes only a {@link DefaultFileRegion}). The file belongs to the store's cache: releasing
 * the region gives the slice back instead of closing it.
 */
final class SliceRegion extends DefaultFileRegion {
    private final FileSlice slice;

    SliceRegion(FileSlice slice) {
        super(slice.channel(), slice.position(), slice.length());
        this.slice = slice;
    }

    @Override
    protected void deallocate() {
        slice.close();
    }
}
