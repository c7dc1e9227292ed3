#!/usr/bin/env bash
# Bounded connections. 1000 idle clients (connected and silent, stopped midway through the
# handshake, or idle in transmission) cost little memory (RSS before/after is printed) and keep no
# normal client out: nbdinfo and nbdcopy work beside them. With --max-connections 10 and 10 idle,
# the 11th is closed at once (one warning for many refusals), and the idle handshakes are dropped
# after --handshake-timeout so that a normal client gets in again.
source "$(dirname "$0")/lib.sh"
# python3 holds 1000 sockets and the node as many: raise the soft limit (the JVM raises its own)
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt 4096 ]; then ulimit -Sn 4096 2>/dev/null || ulimit -Sn hard; fi
[ "$(ulimit -Sn)" = unlimited ] || [ "$(ulimit -Sn)" -ge 2200 ] || fail "needs 2200 file descriptors, ulimit -n is $(ulimit -n)"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# hold.py PORT EXPORT SILENT MIDWAY SERVED GO: opens the idle connections, prints READY, waits for
# the file GO, then prints how many of each kind the server still has open, and "CLOSED_AFTER s"
# once every silent and midway one was closed by the server (up to 60 s).
cat >"$WORK/hold.py" <<'PY'
import os, socket, struct, sys, time
port, export, n_silent, n_midway, n_served, go = sys.argv[1], sys.argv[2].encode(), *map(int, sys.argv[3:6]), sys.argv[6]
NBDMAGIC, IHAVEOPT = 0x4e42444d41474943, 0x49484156454F5054
def conn():
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.settimeout(30)
    return s
def read(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("server closed the connection")
        b += c
    return b
def greeting(s):
    magic, opt, _ = struct.unpack(">QQH", read(s, 18))
    assert magic == NBDMAGIC and opt == IHAVEOPT
start = time.monotonic()
silent = [conn() for _ in range(n_silent)]             # connected, nothing sent, nothing read
midway = []
for _ in range(n_midway):                              # greeting, flags, half an option
    s = conn(); greeting(s)
    s.sendall(struct.pack(">IQII", 3, IHAVEOPT, 1, 100) + b"x" * 10)
    midway.append(s)
served = []
for _ in range(n_served):                              # NBD_OPT_EXPORT_NAME, then silence
    s = conn(); greeting(s)
    s.sendall(struct.pack(">IQII", 3, IHAVEOPT, 1, len(export)) + export)
    read(s, 10)
    served.append(s)
print(f"READY {n_silent + n_midway + n_served} in {time.monotonic() - start:.1f}s", flush=True)
while not os.path.exists(go):
    time.sleep(0.1)
def closed(s):  # drains what arrived (a greeting nobody read): EOF or reset means closed
    s.setblocking(False)
    try:
        while True:
            if s.recv(1 << 16) == b"":
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True
def still_open(ss):
    return sum(not closed(s) for s in ss)
print(f"OPEN silent={still_open(silent)} midway={still_open(midway)} served={still_open(served)}", flush=True)
t0 = time.monotonic()
while still_open(silent) + still_open(midway) > 0 and time.monotonic() - t0 < 60:
    time.sleep(0.2)
print(f"CLOSED_AFTER {time.monotonic() - start:.1f} silent={still_open(silent)} midway={still_open(midway)} "
      f"served={still_open(served)}", flush=True)
PY

# over.py PORT N: N connections in a row; prints how many were closed by the server without a greeting.
cat >"$WORK/over.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
refused = 0
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
    try:
        if s.recv(18) == b"":
            refused += 1
    except ConnectionResetError:
        refused += 1
    except socket.timeout:
        pass
    s.close()
print(refused)
PY

hold() { # OUTPUT SILENT MIDWAY SERVED: starts hold.py in the background, waits for READY
  rm -f "$WORK/go"
  python3 "$WORK/hold.py" "${NODE_NBD[n1]}" idle "$2" "$3" "$4" "$WORK/go" >"$1" 2>&1 &
  HOLD_PID=$!
  on_exit "kill $HOLD_PID"
  local deadline=$((SECONDS + 120))
  until grep -q READY "$1"; do
    kill -0 "$HOLD_PID" 2>/dev/null || fail "opening the idle connections failed: $(cat "$1")"
    [ $SECONDS -lt $deadline ] || fail "the idle connections were not open within 120 s"
    sleep 0.2
  done
  log "idle connections: $(grep READY "$1")"
}

# 1. the default --max-connections with 1000 idle ones (a handshake bound long enough to outlast the checks)
start_node n1 --handshake-timeout 120
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create idle 64M -a "$(addr n1)" >/dev/null
kelpie vdi create data 32M -a "$(addr n1)" >/dev/null
head -c 32M /dev/urandom >"$WORK/in.bin"
nbdcopy "$WORK/in.bin" "$(nbd_uri n1 data)" || fail "nbdcopy in (warm-up)"
pid=${NODE_PID[n1]}
before=$(rss_kib "$pid")
hold "$WORK/hold1.out" 400 300 300
after=$(rss_kib "$pid")
per=$(( (after - before) * 1024 / 1000 ))
log "RSS of the node: ${before} KiB before, ${after} KiB with 1000 idle connections: $(( (after - before) / 1024 )) MiB, ~${per} bytes per connection"
[ $(( after - before )) -lt $(( 100 * 1024 )) ] || fail "1000 idle connections cost $(( (after - before) / 1024 )) MiB of RSS"
# every accepted socket probes a silent peer after 60 s (a vanished host is found out in ~2 min)
ss -tnoH state established "( sport = :${NODE_NBD[n1]} )" >"$WORK/ss.out"
python3 - "$WORK/ss.out" <<'PY' || fail "accepted NBD sockets lack the 60 s keepalive: $(head -n 3 "$WORK/ss.out")"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
timers = [re.search(r"timer:\(keepalive,(?:(\d+)min)?([\d.]+)(m?s)", l) for l in lines]
secs = [int(t[1] or 0) * 60 + float(t[2]) / (1000 if t[3] == "ms" else 1) for t in timers if t]
assert len(lines) >= 1000 and len(secs) == len(lines) and max(secs) <= 60, (len(lines), len(secs), max(secs or [0]))
print(f"{len(secs)} accepted sockets, keepalive timers at most {max(secs):.0f} s", file=sys.stderr)
PY
out=$(nbdinfo "$(nbd_uri n1 data)") || fail "nbdinfo beside 1000 idle connections: $out"
echo "$out" | grep -q 'export-size: 33554432' || fail "nbdinfo shows the wrong size: $out"
nbdcopy "$(nbd_uri n1 data)" "$WORK/out.bin" || fail "nbdcopy out beside 1000 idle connections"
cmp "$WORK/in.bin" "$WORK/out.bin" || fail "data read back beside 1000 idle connections differs"
log "nbdinfo and nbdcopy work beside 1000 idle connections; RSS now $(rss_kib "$pid") KiB"
touch "$WORK/go"
until grep -q OPEN "$WORK/hold1.out"; do sleep 0.1; done
grep -q 'OPEN silent=400 midway=300 served=300' "$WORK/hold1.out" \
  || fail "the idle connections did not all stay open through the checks: $(grep OPEN "$WORK/hold1.out")"
kill "$HOLD_PID" 2>/dev/null || true
wait "$HOLD_PID" 2>/dev/null || true
grep -q "connection limit reached" "$WORK/n1.log" && fail "a connection was refused under the default limit"
stop_node n1

# 2. --max-connections 10 with 10 idle: the 11th is closed at once, the idle ones go after the bound
start_node n1 --max-connections 10 --handshake-timeout 5
start=$SECONDS
hold "$WORK/hold2.out" 6 4 0
refused=$(python3 "$WORK/over.py" "${NODE_NBD[n1]}" 50)
[ "$refused" = 50 ] || fail "only $refused of 50 connections over the limit were closed at once"
if nbdinfo "$(nbd_uri n1 data)" >/dev/null 2>&1; then fail "nbdinfo got in although 10 connections were open"; fi
warnings=$(grep -c "NBD connection limit reached" "$WORK/n1.log" || true)
log "51 connections over --max-connections 10 refused at once, $warnings warning line(s)"
[ "$warnings" -ge 1 ] && [ "$warnings" -le 2 ] || fail "$warnings warnings for 51 refusals: $(grep 'limit reached' "$WORK/n1.log")"
touch "$WORK/go"
deadline=$((SECONDS + 60))
until grep -q CLOSED_AFTER "$WORK/hold2.out"; do
  [ $SECONDS -lt $deadline ] || fail "hold.py did not finish"
  sleep 0.2
done
grep -q 'CLOSED_AFTER .* silent=0 midway=0' "$WORK/hold2.out" || fail "idle handshakes were not dropped: $(cat "$WORK/hold2.out")"
log "idle handshakes dropped: $(grep CLOSED_AFTER "$WORK/hold2.out") (bound 5 s)"
out=$(nbdinfo "$(nbd_uri n1 data)") || fail "nbdinfo once the idle handshakes were dropped: $out"
echo "$out" | grep -q 'export-size: 33554432' || fail "nbdinfo shows the wrong size: $out"
cmp "$WORK/in.bin" <(nbdcopy "$(nbd_uri n1 data)" -) || fail "data read after the idle handshakes were dropped differs"
[ $((SECONDS - start)) -lt 60 ] || fail "a normal client took $((SECONDS - start)) s to get in"
log "PASS"
