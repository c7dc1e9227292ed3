"""Drives a Kelpie NBD export with libnbd the way real clients do and checks every answer.
usage: libnbd_check.py HOST PORT EXPORT SIZE OTHER_EXPORT; exits non-zero on the first failed check."""
import errno
import os
import sys

import nbd

host, port, name, size, other = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
uri = "nbd://%s:%s/%s" % (host, port, name)
MiB = 1 << 20
OBJ = 4 * MiB


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def expect_errno(fn, want, what):
    try:
        fn()
    except nbd.Error as e:
        # libnbd reports the server's errno in .errno, or only in the message for some values
        check(e.errno in (want, errno.errorcode[want]) or os.strerror(want) in e.string, "%s fails with %s (got %s: %s)" % (what, errno.errorcode[want],
                                                                   e.errno, e.string))
        return
    check(False, what + " should have failed")


def connect(export=name, meta=True, structured=True):
    h = nbd.NBD()
    h.set_request_structured_replies(structured)
    if meta:
        h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    h.connect_uri("nbd://%s:%s/%s" % (host, port, export))
    return h


def extents(h, count, offset, flags=0):
    out = []

    def cb(ctx, off, entries, err):
        if ctx == nbd.CONTEXT_BASE_ALLOCATION:
            for i in range(0, len(entries), 2):
                out.append((entries[i], entries[i + 1]))
        return 0

    h.block_status(count, offset, cb, flags)
    return out


h = connect()
check(h.get_size() == size, "size %d" % size)
for cap in ("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero", "can_df", "can_cache", "can_multi_conn"):
    check(getattr(h, cap)(), cap)
check(not h.is_read_only(), "writable")
check(h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION), "base:allocation negotiated")
check(h.get_structured_replies_negotiated(), "structured replies")

# A fresh VDI is one hole that reads as zeros.
check(h.pread(65536, 0) == bytes(65536), "fresh VDI reads zeros")
e = extents(h, size, 0)
check(sum(l for l, _ in e) <= size and e[0][1] == 3, "fresh VDI is a hole (HOLE|ZERO): %s" % e[:3])

# Writes, including one across an object boundary, read back exactly.
a = os.urandom(100000)
b = os.urandom(10000)
h.pwrite(a, OBJ + 1000)
h.pwrite(b, 2 * OBJ - 5000, nbd.CMD_FLAG_FUA)
check(h.pread(len(a), OBJ + 1000) == a, "write/read 100000 bytes")
check(h.pread(len(b), 2 * OBJ - 5000) == b, "write/read across an object boundary")
h.flush()

# Block status: object 0 hole, objects 1-2 data, rest hole; never beyond the request.
e = extents(h, 4 * OBJ, 0)
check(e[0] == (OBJ, 3) and e[1] == (2 * OBJ, 0) and e[2][1] == 3, "block status map %s" % e)
check(sum(l for l, _ in e) == 4 * OBJ, "block status covers exactly the request")
one = extents(h, 3 * OBJ, OBJ // 2, nbd.CMD_FLAG_REQ_ONE)
check(len(one) == 1 and one[0] == (OBJ // 2, 3), "REQ_ONE: one extent, not longer than asked %s" % one)
one = extents(h, 100, OBJ + 10, nbd.CMD_FLAG_REQ_ONE)
check(one == [(100, 0)], "REQ_ONE inside data %s" % one)

# Structured read: holes come as hole chunks, data as data chunks, each byte exactly once.
chunks = []


def chunk(buf, off, status, err):
    chunks.append((off, len(buf), status, bytes(buf)))
    return 0


buf = h.pread_structured(3 * OBJ, 0, chunk)
kinds = [(o, n, s) for o, n, s, _ in chunks]
check(sorted((o, n) for o, n, _ in kinds) == [(0, OBJ), (OBJ, 2 * OBJ)], "chunks %s" % kinds)
check(any(s == nbd.READ_HOLE for _, _, s in kinds), "a hole chunk for object 0")
covered = sorted((o, o + n) for o, n, _ in kinds)
pos = 0
for lo, hi in covered:
    check(lo == pos, "chunks are contiguous at %d" % lo)
    pos = hi
check(pos == 3 * OBJ, "chunks cover the read exactly once")
check(buf[OBJ + 1000:OBJ + 1000 + len(a)] == a, "structured read returns the data")
chunks.clear()
h.pread_structured(3 * OBJ, 0, chunk, nbd.CMD_FLAG_DF)
check(len(chunks) == 1 and chunks[0][2] == nbd.READ_DATA, "DF: a single data chunk")

# Zeroing and trimming.
h.zero(4096, OBJ + 1000)
check(h.pread(4096, OBJ + 1000) == bytes(4096), "write zeroes reads back zeros")
check(h.pread(100, OBJ + 5096) == a[4096:4196], "bytes after the zeroed range intact")
h.zero(OBJ, 3 * OBJ, nbd.CMD_FLAG_NO_HOLE)
check(extents(h, OBJ, 3 * OBJ, nbd.CMD_FLAG_REQ_ONE) == [(OBJ, 0)], "NO_HOLE zeroing allocates")
check(h.pread(OBJ, 3 * OBJ) == bytes(OBJ), "NO_HOLE zeroing reads zeros")
expect_errno(lambda: h.zero(OBJ, 5 * OBJ, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FAST_ZERO), errno.ENOTSUP,
             "fast zero that would have to write")
check(extents(h, OBJ, 5 * OBJ, nbd.CMD_FLAG_REQ_ONE)[0][1] == 3, "failed fast zero left the range alone")
h.zero(OBJ, 5 * OBJ, nbd.CMD_FLAG_FAST_ZERO)
h.trim(OBJ, 3 * OBJ)
check(h.pread(OBJ, 3 * OBJ) == bytes(OBJ), "trimmed object reads zeros")
check(extents(h, OBJ, 3 * OBJ, nbd.CMD_FLAG_REQ_ONE)[0][1] == 3, "trimmed object is a hole")
h.cache(OBJ, 0)

# Errors from the server itself (client-side checks off): the connection stays usable.
h.set_strict_mode(0)
check(h.pread(512, 0, nbd.CMD_FLAG_FUA) == bytes(512), "FUA accepted on a read")
expect_errno(lambda: h.pread(4096, size - 100), errno.EINVAL, "read beyond the end")
expect_errno(lambda: h.pwrite(b"x" * 4096, size - 100), errno.ENOSPC, "write beyond the end")
expect_errno(lambda: h.zero(4096, size), errno.ENOSPC, "write zeroes beyond the end")
expect_errno(lambda: h.trim(4096, size), errno.EINVAL, "trim beyond the end")
expect_errno(lambda: extents(h, 4096, size), errno.EINVAL, "block status beyond the end")
expect_errno(lambda: h.pwrite(b"x", 0, 0x40), errno.EINVAL, "unknown command flag")
expect_errno(lambda: h.pwrite(b"x", 0, nbd.CMD_FLAG_REQ_ONE), errno.EINVAL, "REQ_ONE on a write")
check(h.pread(len(b), 2 * OBJ - 5000) == b, "connection usable after errors")

# Pipelined requests complete out of order with the right data.
blobs = {i: os.urandom(4096 * (1 + i % 7)) for i in range(64)}
cookies = [h.aio_pwrite(blobs[i], 8 * OBJ + i * 65536) for i in range(64)]
while any(not h.aio_command_completed(c) for c in cookies if c is not None) and h.aio_in_flight() > 0:
    h.poll(-1)
bufs = {i: nbd.Buffer(len(blobs[i])) for i in range(64)}
cookies = [h.aio_pread(bufs[i], 8 * OBJ + i * 65536) for i in range(64)]
while h.aio_in_flight() > 0:
    h.poll(-1)
check(all(bufs[i].to_bytearray() == blobs[i] for i in range(64)), "64 pipelined writes and reads")

# Large reads (sent from the object's file when the server is told to, verified): a whole object, a piece of one,
# pipelined, with simple replies; unaligned reads and reads past the file's end are always copied.
big = os.urandom(OBJ)
h.pwrite(big, 12 * OBJ)
check(h.pread(OBJ, 12 * OBJ) == big, "a whole object read back (structured replies)")
check(h.pread(1 << 20, 12 * OBJ + 3 * 4096) == big[3 * 4096:3 * 4096 + (1 << 20)], "1 MiB from inside an object")
check(h.pread(300001, 12 * OBJ + 4095) == big[4095:304096], "an unaligned large read")
h.pwrite(b"tail" * 1024, 13 * OBJ)  # a 4 KiB file: the rest of the object is a hole past its end
check(h.pread(1 << 20, 13 * OBJ) == b"tail" * 1024 + bytes((1 << 20) - 4096), "a large read past the file's end")
bufs = [nbd.Buffer(1 << 20) for i in range(16)]
cookies = [h.aio_pread(bufs[i], 12 * OBJ + (i % 4) * (1 << 20)) for i in range(16)]
while h.aio_in_flight() > 0:
    h.poll(-1)
check(all(bufs[i].to_bytearray() == big[(i % 4) << 20:((i % 4) + 1) << 20] for i in range(16)),
      "16 pipelined 1 MiB reads")
h4 = connect(meta=False, structured=False)
check(h4.pread(OBJ, 12 * OBJ) == big, "a whole object with simple replies")
h4.shutdown()

# Multi-conn: what one connection flushed, another reads.
h2 = connect(meta=False, structured=False)
h.pwrite(b"multi-conn" * 100, 10 * OBJ)
h.flush()
check(h2.pread(1000, 10 * OBJ) == b"multi-conn" * 100, "second connection (simple replies) sees the write")
h2.shutdown()

# Block status without SET_META_CONTEXT is refused by the server.
h3 = connect(meta=False)
h3.set_strict_mode(0)
expect_errno(lambda: extents(h3, 4096, 0), errno.EINVAL, "block status without a meta context")
check(h3.pread(10, 10 * OBJ) == b"multi-conn", "still usable")
h3.shutdown()

# Unknown export and the default export.
try:
    connect(export="no-such-vdi")
    check(False, "unknown export should fail")
except nbd.Error as e:
    check(True, "unknown export refused: %s" % e.string)
try:
    connect(export="")
    check(False, "the default export is ambiguous with two VDIs")
except nbd.Error as e:
    check(True, "default export refused with two VDIs: %s" % e.string)

# Listing.
lh = nbd.NBD()
lh.set_opt_mode(True)
lh.connect_uri("nbd://%s:%s/" % (host, port))
seen = []
lh.opt_list(lambda n, d: seen.append((n, d)) or 0)
check({name, other} <= {n for n, _ in seen}, "NBD_OPT_LIST shows every VDI: %s" % seen)
check(all(d for _, d in seen), "every export has a description")
lh.opt_abort()

h.shutdown()
print("ALL OK")
