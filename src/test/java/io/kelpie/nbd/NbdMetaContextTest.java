package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static io.kelpie.nbd.NbdConstants.*;
import static io.kelpie.nbd.NbdHandshakeHandlerTest.infoData;
import static io.kelpie.nbd.NbdHandshakeHandlerTest.metaData;
import static io.kelpie.nbd.NbdHandshakeHandlerTest.option;
import static io.kelpie.nbd.NbdHandshakeHandlerTest.reply;
import static org.junit.jupiter.api.Assertions.*;

/** Negotiation of qemu:allocation-depth next to base:allocation, through the handshake handler. */
class NbdMetaContextTest {
    private final TestExports exports = new TestExports().add("disk", 1 << 20, false);
    private EmbeddedChannel ch;

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
        exports.requests.forEach(NbdRequest::release);
    }

    private void connectStructured() {
        ch = new EmbeddedChannel(new NbdHandshakeHandler(exports));
        out().release();
        ch.writeInbound(Unpooled.buffer().writeInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
        ch.writeInbound(option(NBD_OPT_STRUCTURED_REPLY));
        ByteBuf r = out();
        reply(r, NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK);
        r.release();
    }

    private ByteBuf out() {
        ch.runPendingTasks();
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            all.writeBytes(b);
            b.release();
        }
        return all;
    }

    /** Sends one meta context option; returns context name -> id from its replies, which must end in ACK. */
    private Map<String, Integer> meta(int opt, String export, String... queries) {
        ch.writeInbound(option(opt, metaData(export, queries)));
        ByteBuf r = out();
        Map<String, Integer> got = new HashMap<>();
        while (r.getInt(r.readerIndex() + 12) == NBD_REP_META_CONTEXT) {
            ByteBuf d = reply(r, opt, NBD_REP_META_CONTEXT);
            int id = d.readInt();
            assertNull(got.put(d.toString(StandardCharsets.US_ASCII), id), "a context twice");
        }
        reply(r, opt, NBD_REP_ACK);
        assertFalse(r.isReadable());
        r.release();
        return got;
    }

    private void go() {
        ch.writeInbound(option(NBD_OPT_GO, infoData("disk")));
        out().release();
        assertNotNull(exports.session, "GO reached transmission");
    }

    @Test
    void listOffersBothAndTheQemuNamespaceListsDepth() {
        connectStructured();
        assertEquals(Map.of(BASE_ALLOCATION, 0, ALLOCATION_DEPTH, 0), meta(NBD_OPT_LIST_META_CONTEXT, "disk"));
        assertEquals(Map.of(ALLOCATION_DEPTH, 0), meta(NBD_OPT_LIST_META_CONTEXT, "disk", "qemu:"));
        assertEquals(Map.of(BASE_ALLOCATION, 0), meta(NBD_OPT_LIST_META_CONTEXT, "disk", "base:"));
        assertEquals(Map.of(ALLOCATION_DEPTH, 0), meta(NBD_OPT_LIST_META_CONTEXT, "disk", "qemu:allocation-depth", "qemu:other"));
        // SET takes whole names only: a bare namespace selects nothing, as in qemu-nbd.
        assertEquals(Map.of(), meta(NBD_OPT_SET_META_CONTEXT, "disk", "qemu:"));
        go();
        assertEquals(0, exports.session.allocationDepthContext());
        assertEquals(0, exports.session.baseAllocationContext());
    }

    @Test
    void setBothGivesDistinctIdsToTheSession() {
        connectStructured();
        Map<String, Integer> ids = meta(NBD_OPT_SET_META_CONTEXT, "disk", ALLOCATION_DEPTH, BASE_ALLOCATION);
        assertEquals(2, ids.size());
        assertNotEquals(0, ids.get(BASE_ALLOCATION));
        assertNotEquals(0, ids.get(ALLOCATION_DEPTH));
        assertNotEquals(ids.get(BASE_ALLOCATION), ids.get(ALLOCATION_DEPTH));
        go();
        assertEquals((int) ids.get(BASE_ALLOCATION), exports.session.baseAllocationContext());
        assertEquals((int) ids.get(ALLOCATION_DEPTH), exports.session.allocationDepthContext());
    }

    @Test
    void depthAloneIsEnoughForBlockStatusAndALaterSetReplacesIt() {
        connectStructured();
        assertEquals(Map.of(BASE_ALLOCATION, NbdMetaContext.BASE_ALLOCATION_ID), meta(NBD_OPT_SET_META_CONTEXT, "disk", BASE_ALLOCATION));
        Map<String, Integer> ids = meta(NBD_OPT_SET_META_CONTEXT, "disk", ALLOCATION_DEPTH);
        assertEquals(Map.of(ALLOCATION_DEPTH, NbdMetaContext.ALLOCATION_DEPTH_ID), ids);
        go();
        assertEquals(0, exports.session.baseAllocationContext(), "the second SET replaced the first");
        assertEquals(NbdMetaContext.ALLOCATION_DEPTH_ID, exports.session.allocationDepthContext());
        NbdRequest bs = new NbdRequest(0, NBD_CMD_BLOCK_STATUS, 1, 0, 4096);
        assertNull(NbdRequestValidator.validate(bs, exports.session), "block status with only the depth context");
    }
}
