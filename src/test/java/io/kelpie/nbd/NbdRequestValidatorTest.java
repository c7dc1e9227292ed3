package io.kelpie.nbd;

import org.junit.jupiter.api.Test;

import static io.kelpie.nbd.NbdConstants.*;
import static org.junit.jupiter.api.Assertions.*;

class NbdRequestValidatorTest {
    private static final long SIZE = 1 << 20;

    private static NbdSession session(boolean readOnly, boolean structured, int context) {
        NbdExportInfo info = new NbdExportInfo("d", "", SIZE, readOnly);
        NbdExport export = new NbdExport() {
            @Override
            public NbdExportInfo info() {
                return info;
            }

            @Override
            public void close() {
            }
        };
        return new NbdSession(export, info.transmissionFlags(structured), structured, context);
    }

    private static Integer errno(NbdSession s, int flags, int type, long offset, long length) {
        NbdRequest r = new NbdRequest(flags, type, 1, offset, length);
        NbdError e = NbdRequestValidator.validate(r, s);
        return e == null ? null : e.errno();
    }

    @Test
    void rangesAndLengths() {
        NbdSession s = session(false, true, 1);
        assertNull(errno(s, 0, NBD_CMD_READ, 0, SIZE));
        assertEquals(NBD_EINVAL, errno(s, 0, NBD_CMD_READ, 1, SIZE));
        assertEquals(NBD_ENOSPC, errno(s, 0, NBD_CMD_WRITE, SIZE, 1));
        assertEquals(NBD_ENOSPC, errno(s, 0, NBD_CMD_WRITE_ZEROES, SIZE - 1, 2));
        assertEquals(NBD_EINVAL, errno(s, 0, NBD_CMD_TRIM, SIZE - 1, 2));
        assertEquals(NBD_EINVAL, errno(s, 0, NBD_CMD_BLOCK_STATUS, SIZE, 1));
        assertEquals(NBD_EINVAL, errno(s, 0, NBD_CMD_CACHE, SIZE, 1));
        assertEquals(NBD_EINVAL, errno(s, 0, NBD_CMD_READ, -4096L, 4096), "u64 offsets past 2^63");
        assertEquals(NBD_EINVAL, errno(s, 0, NBD_CMD_READ, 0, 0));
        assertEquals(NBD_EINVAL, errno(s, 0, NBD_CMD_FLUSH, 0, 1));
        assertNull(errno(s, 0, NBD_CMD_FLUSH, 0, 0));
        assertNull(errno(s, 0, NBD_CMD_DISC, 0, 0));
    }

    @Test
    void flags() {
        NbdSession s = session(false, true, 1);
        assertNull(errno(s, NBD_CMD_FLAG_FUA, NBD_CMD_READ, 0, 512), "FUA is accepted on every command");
        assertNull(errno(s, NBD_CMD_FLAG_FUA, NBD_CMD_FLUSH, 0, 0));
        assertNull(errno(s, NBD_CMD_FLAG_DF, NBD_CMD_READ, 0, 512));
        assertNull(errno(s, NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO, NBD_CMD_WRITE_ZEROES, 0, 512));
        assertNull(errno(s, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_BLOCK_STATUS, 0, 512));
        assertEquals(NBD_EINVAL, errno(s, 0x20, NBD_CMD_READ, 0, 512));
        assertEquals(NBD_EINVAL, errno(s, NBD_CMD_FLAG_NO_HOLE, NBD_CMD_WRITE, 0, 512));
        assertEquals(NBD_EINVAL, errno(s, NBD_CMD_FLAG_DF, NBD_CMD_WRITE, 0, 512));
        assertEquals(NBD_EINVAL, errno(s, NBD_CMD_FLAG_REQ_ONE, NBD_CMD_READ, 0, 512));
        assertEquals(NBD_EINVAL, errno(session(false, false, 0), NBD_CMD_FLAG_DF, NBD_CMD_READ, 0, 512));
        assertEquals(NBD_EINVAL, errno(s, 0, 99, 0, 512), "unknown command");
    }

    @Test
    void readOnlyAndMetaContext() {
        NbdSession ro = session(true, true, 1);
        assertEquals(NBD_EPERM, errno(ro, 0, NBD_CMD_WRITE, 0, 512));
        assertEquals(NBD_EPERM, errno(ro, 0, NBD_CMD_TRIM, 0, 512));
        assertEquals(NBD_EPERM, errno(ro, 0, NBD_CMD_WRITE_ZEROES, 0, 512));
        assertNull(errno(ro, 0, NBD_CMD_READ, 0, 512));
        assertEquals(NBD_EINVAL, errno(session(false, true, 0), 0, NBD_CMD_BLOCK_STATUS, 0, 512));
        assertEquals(NBD_EINVAL, errno(session(false, false, 0), 0, NBD_CMD_BLOCK_STATUS, 0, 512));
        assertEquals(NBD_EINVAL, errno(session(false, true, 1), 0, NBD_CMD_READ, 0, NbdLimits.MAX_REQUEST_SIZE + 1L));
    }
}
