package io.kelpie.nbd;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the payloads of the options that carry structure (INFO/GO, LIST/SET_META_CONTEXT). Every
 * length is checked against the bytes actually present before it is used; a payload that does not
 * add up exactly is refused with {@link InvalidOption} (NBD_REP_ERR_INVALID).
 */
public final class NbdOptionParser {
    private NbdOptionParser() {
    }

    /** A syntactically invalid option; the message goes back to the client. */
    public static final class InvalidOption extends Exception {
        private static final long serialVersionUID = 1L;
        private final int reply;

        public InvalidOption(String message) {
            this(NbdConstants.NBD_REP_ERR_INVALID, message);
        }

        public InvalidOption(int reply, String message) {
            super(message, null, false, false);
            this.reply = reply;
        }

        public int reply() {
            return reply;
        }
    }

    /** NBD_OPT_INFO / NBD_OPT_GO: export name and the information types requested. */
    public record InfoRequest(String name, int[] infos) {
    }

    /** NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: export name and queries. */
    public record MetaRequest(String name, List<String> queries) {
    }

    public static InfoRequest parseInfo(ByteBuf data) throws InvalidOption {
        String name = readString(data, "export name", 2);
        if (data.readableBytes() < 2) {
            throw new InvalidOption("option is too short for its number of information requests");
        }
        int n = data.readUnsignedShort();
        if (data.readableBytes() != 2 * n) {
            throw new InvalidOption("option length does not match " + n + " information requests");
        }
        int[] infos = new int[n];
        for (int i = 0; i < n; i++) {
            infos[i] = data.readUnsignedShort();
        }
        return new InfoRequest(name, infos);
    }

    public static MetaRequest parseMeta(ByteBuf data) throws InvalidOption {
        String name = readString(data, "export name", 4);
        if (data.readableBytes() < 4) {
            throw new InvalidOption("option is too short for its number of queries");
        }
        long n = data.readUnsignedInt();
        if (n > data.readableBytes() / 4) {
            throw new InvalidOption("option is too short for " + n + " queries");
        }
        if (n > NbdLimits.MAX_QUERIES) {
            throw new InvalidOption(NbdConstants.NBD_REP_ERR_TOO_BIG, n + " queries are too many (at most "
                    + NbdLimits.MAX_QUERIES + ")");
        }
        List<String> queries = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            queries.add(readString(data, "query", 0));
        }
        if (data.isReadable()) {
            throw new InvalidOption("option has " + data.readableBytes() + " bytes after its last query");
        }
        return new MetaRequest(name, queries);
    }

    /** A u32 length and that many bytes of UTF-8, leaving at least {@code after} bytes. */
    private static String readString(ByteBuf data, String what, int after) throws InvalidOption {
        if (data.readableBytes() < 4) {
            throw new InvalidOption("option is too short for the length of its " + what);
        }
        long len = data.readUnsignedInt();
        if (len > data.readableBytes() - after) {
            throw new InvalidOption("length " + len + " of " + what + " exceeds the option");
        }
        if (len > NbdConstants.MAX_STRING) {
            throw new InvalidOption(what + " is longer than " + NbdConstants.MAX_STRING + " bytes");
        }
        String s = data.toString(data.readerIndex(), (int) len, StandardCharsets.UTF_8);
        data.skipBytes((int) len);
        return s;
    }
}
