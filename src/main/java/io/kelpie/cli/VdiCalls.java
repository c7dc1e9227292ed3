package io.kelpie.cli;

import io.kelpie.peer.AdminMessages;
import io.kelpie.peer.AdminMessages.VdiInfo;
import io.kelpie.peer.PeerConstants;
import io.kelpie.peer.PeerRequest;
import io.kelpie.peer.WireReader;
import io.kelpie.peer.WireWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.ArrayList;
import java.util.List;

/** The VDI admin calls the commands share. */
final class VdiCalls {
    private VdiCalls() {
    }

    static ByteBuf nameArg(String name) {
        ByteBuf b = Unpooled.buffer();
        new WireWriter(b).string(name);
        return b;
    }

    /** VDI_READ of {@code length} bytes at {@code offset} (NAME@TAG reads a snapshot). */
    static PeerRequest read(String name, long offset, int length) {
        return new PeerRequest(PeerConstants.VDI_READ, 0, 0, 0, 0, offset, length, nameArg(name));
    }

    /** VDI_WRITE of {@code data} (the request takes it over) at {@code offset}. */
    static PeerRequest write(String name, long offset, ByteBuf data) {
        return new PeerRequest(PeerConstants.VDI_WRITE, 0, 0, 0, 0, offset, 0, Unpooled.wrappedBuffer(nameArg(name), data));
    }

    /** VDI_TRIM: the range reads as zeros after it; whole objects in it are freed. */
    static PeerRequest trim(String name, long offset, long length) {
        ByteBuf args = Unpooled.buffer();
        new WireWriter(args).string(name).i64(length);
        return new PeerRequest(PeerConstants.VDI_TRIM, 0, 0, 0, 0, offset, 0, args);
    }

    /** Makes every write acknowledged so far on this connection durable. */
    static void flush(AdminClient client) {
        AdminClient.await(client.send(PeerRequest.of(PeerConstants.FLUSH, 0, 0, 0, 0, 0))).release();
    }

    static List<VdiInfo> list(AdminClient client) {
        return decodeList(client.call(PeerRequest.withPayload(PeerConstants.VDI_LIST, 0, 0, 0, 0, Unpooled.EMPTY_BUFFER)));
    }

    /** The VDI called {@code name} (or NAME@TAG); the node's NO_VDI error if there is none. */
    static VdiInfo lookup(AdminClient client, String name) {
        List<VdiInfo> one = decodeList(client.call(PeerRequest.withPayload(PeerConstants.VDI_LIST, 0, 0, 0, 0, nameArg(name))));
        return one.get(0);
    }

    static VdiInfo decodeOne(ByteBuf result) {
        try {
            return VdiInfo.read(new WireReader(result));
        } finally {
            result.release();
        }
    }

    private static List<VdiInfo> decodeList(ByteBuf result) {
        try {
            WireReader r = new WireReader(result);
            int n = AdminMessages.count(r);
            List<VdiInfo> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(VdiInfo.read(r));
            }
            return out;
        } finally {
            result.release();
        }
    }
}
