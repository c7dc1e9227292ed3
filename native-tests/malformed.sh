#!/usr/bin/env bash
# Hostile NBD input against a live node: garbage, bad magics, huge lengths, truncated requests,
# a 4 GiB write, disconnects mid-request, option floods. Each bad connection is dropped (or gets an
# error reply and stays usable); afterwards the node is alive and a normal client works.
source "$(dirname "$0")/lib.sh"
start_node n1
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create victim 16M -a "$(addr n1)" >/dev/null
printf 'precious' | nbdcopy - "$(nbd_uri n1 victim)" 2>/dev/null || \
  qemu-io -f raw -c 'write -P 0x77 0 4k' "$(nbd_uri n1 victim)" >/dev/null

python3 - "${NODE_NBD[n1]}" <<'PY' || fail "malformed-input checks"
import os, socket, struct, sys, time
PORT = int(sys.argv[1])
NBDMAGIC, IHAVEOPT, REPLY = 0x4e42444d41474943, 0x49484156454F5054, 0x3e889045565a9
REQ, SIMPLE = 0x25609513, 0x67446698

def conn():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    g = recvn(s, 18)
    assert struct.unpack(">QQH", g)[:2] == (NBDMAGIC, IHAVEOPT), g
    return s

def recvn(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += c
    return b

def closed(s, what):
    try:
        while True:
            if not s.recv(65536):
                print("ok:", what, "-> connection dropped"); return
    except ConnectionResetError:
        print("ok:", what, "-> connection reset"); return
    except socket.timeout:
        raise AssertionError(what + ": connection not dropped")

def opt(s, o, data=b""):
    s.sendall(struct.pack(">QII", IHAVEOPT, o, len(data)) + data)

def opt_reply(s):
    magic, o, t, n = struct.unpack(">QIII", recvn(s, 20))
    assert magic == REPLY, hex(magic)
    return o, t, recvn(s, n)

def go(s, name=b"victim"):
    s.sendall(struct.pack(">I", 3))  # FIXED_NEWSTYLE | NO_ZEROES
    opt(s, 7, struct.pack(">I", len(name)) + name + struct.pack(">H", 0))
    while True:
        o, t, d = opt_reply(s)
        if t == 1:
            return
        assert t == 3, hex(t)

def req(s, typ, cookie, off, length, flags=0, payload=b""):
    s.sendall(struct.pack(">IHHQQI", REQ, flags, typ, cookie, off, length) + payload)

def simple(s):
    magic, err, cookie = struct.unpack(">IIQ", recvn(s, 16))
    assert magic == SIMPLE, hex(magic)
    return err, cookie

# 1. garbage instead of client flags / options
s = conn(); s.sendall(os.urandom(4096)); closed(s, "random garbage")
s = conn(); s.sendall(struct.pack(">I", 0xffffffff)); closed(s, "unknown client flags")
s = conn(); s.sendall(struct.pack(">I", 1)); s.sendall(struct.pack(">QII", 0xdeadbeef, 7, 0)); closed(s, "bad option magic")
# 2. a 4 GiB option: dropped without the server buffering it
s = conn(); s.sendall(struct.pack(">I", 1)); opt(s, 7); s.sendall(struct.pack(">QII", IHAVEOPT, 7, 0xffffffff)); closed(s, "4 GiB option")
# 3. unknown options are skipped and refused, the session goes on
s = conn(); s.sendall(struct.pack(">I", 3)); opt(s, 0x7777, b"x" * 1000)
o, t, d = opt_reply(s); assert (o, t) == (0x7777, 0x80000001), (o, hex(t)); print("ok: unknown option -> ERR_UNSUP")
name = b"nope"; opt(s, 7, struct.pack(">I", len(name)) + name + struct.pack(">H", 0))
o, t, d = opt_reply(s); assert t == 0x80000006, hex(t); print("ok: unknown export -> ERR_UNKNOWN:", d.decode())
opt(s, 7, struct.pack(">I", 100) + b"short"); o, t, d = opt_reply(s); assert t == 0x80000003, hex(t); print("ok: bad GO lengths -> ERR_INVALID")
s.close()
# 4. option flood
s = conn(); s.sendall(struct.pack(">I", 3))
try:
    for i in range(2000):
        opt(s, 0x7777)
except (BrokenPipeError, ConnectionResetError):
    pass
closed(s, "2000 options")
# 5. transmission: bad requests get errors and the connection stays usable
s = conn(); go(s)
req(s, 0, 1, 0, 0xffffffff); err, c = simple(s); assert (err, c) == (22, 1), err; print("ok: 4 GiB read -> EINVAL")
req(s, 99, 2, 0, 512); err, c = simple(s); assert (err, c) == (22, 2), err; print("ok: unknown command -> EINVAL")
req(s, 0, 3, 0, 512, flags=0x100); err, c = simple(s); assert (err, c) == (22, 3), err; print("ok: unknown flag -> EINVAL")
req(s, 0, 4, 1 << 62, 512); err, c = simple(s); assert err == 22, err; print("ok: read at 2^62 -> EINVAL")
req(s, 1, 5, 16 << 20, 4, payload=b"abcd"); err, c = simple(s); assert (err, c) == (28, 5), err; print("ok: write past end -> ENOSPC")
req(s, 0, 6, 0, 8); err, c = simple(s); assert err == 0; data = recvn(s, 8); print("ok: still serving, read", data)
# 6. bad request magic drops only this connection
s.sendall(struct.pack(">IHHQQI", 0x12345678, 0, 0, 7, 0, 512)); closed(s, "bad request magic")
# 7. a 4 GiB write is refused by dropping the connection
s = conn(); go(s); req(s, 1, 1, 0, 0xffffffff); s.sendall(b"x" * 65536); closed(s, "4 GiB write")
# 8. truncated requests and disconnects mid-request / mid-payload / with requests in flight
for cut in (5, 27):
    s = conn(); go(s); s.sendall(struct.pack(">IHHQQI", REQ, 0, 0, 1, 0, 512)[:cut]); s.close()
s = conn(); go(s); req(s, 1, 1, 0, 1 << 20); s.sendall(b"y" * 1000); s.close()
s = conn(); go(s)
for i in range(64):
    req(s, 0, i, 0, 1 << 20)
s.close()
s = conn(); s.sendall(struct.pack(">I", 3)); opt(s, 7, struct.pack(">I", 6) + b"vic"); s.close()
for i in range(50):
    socket.create_connection(("127.0.0.1", PORT)).close()
print("ok: truncated requests and mid-request disconnects")
time.sleep(0.5)
# 9. a well-behaved client on the same node still works
s = conn(); go(s); req(s, 1, 9, 4096, 5, payload=b"hello"); assert simple(s) == (0, 9)
req(s, 0, 10, 4096, 5); assert simple(s) == (0, 10); assert recvn(s, 5) == b"hello"
req(s, 2, 11, 0, 0); closed(s, "NBD_CMD_DISC")
print("ok: normal client after all that")
PY

kill -0 "${NODE_PID[n1]}" || fail "the node died"
out=$(qemu-io -f raw -c 'read -P 0x68 4096 1' -c 'write -P 0x42 8k 4k' -c 'read -P 0x42 8k 4k' "$(nbd_uri n1 victim)" 2>&1)
echo "$out" | grep -qi 'fail\|error' && fail "qemu-io after malformed input: $out"
nbdinfo --list "nbd://127.0.0.1:${NODE_NBD[n1]}" | grep -q victim || fail "listing after malformed input"
log "PASS"
