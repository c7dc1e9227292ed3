#!/usr/bin/env bash
# A partition by SIGSTOP: three node processes, copies 3. Two nodes are stopped; the lone node
# sees 1 of the epoch's 3 nodes, refuses writes (EIO within ~10 s) and says why in 'cluster info'.
# SIGCONT: the cluster is one again (3 members, one epoch, everywhere), writes work, and the data
# written before the split reads back identical through every node. SPLIT_GAP=S stops n3 S seconds
# before n2 (split-brain-staggered.sh).
source "$(dirname "$0")/lib.sh"

info() { kelpie cluster info -a "$(addr "$1")" --json; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
members() { kelpie node list -a "$(addr "$1")" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

await() { # SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting until $what"
    sleep 0.5
  done
}
serving() { [ "$(info "$1" | field serving)" = True ]; }
not_serving() { [ "$(info "$1" | field serving)" = False ]; }
settled() { # every node: 3 members, epoch $1, serving
  for n in n1 n2 n3; do
    [ "$(members $n)" = 3 ] && [ "$(info $n | field epoch)" = "$1" ] && serving $n || return 1
  done
}
settled_now() { local e; e=$(info n1 | field epoch) && settled "$e"; }

start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1)"
kelpie cluster format -a "$(addr n1)" --copies 3 >/dev/null
await 30 "epoch 1 everywhere" settled 1
kelpie vdi create -a "$(addr n1)" disk 16M >/dev/null
# The first 12 MiB are written before the split; the refused write goes to 14 MiB (a write that
# failed may or may not have reached a replica: block devices promise nothing either way).
head -c $((12 << 20)) /dev/urandom >"$WORK/before.img"
nbdcopy "$WORK/before.img" "$(nbd_uri n1 disk)" || fail "writing before the split failed"

# A client connected before the split: its write must fail with EIO within ~10 s.
/usr/bin/python3 -I - "$(nbd_uri n1 disk)" "$WORK/client.fifo" >"$WORK/client.out" 2>&1 <<'PY' &
import errno, sys, time, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
while not __import__("os").path.exists(sys.argv[2] + ".go"):
    time.sleep(0.1)
start = time.monotonic()
try:
    h.pwrite(b"\x66" * 65536, 14 << 20)
    h.flush()
    print("ACKED")
except nbd.Error as e:
    print("FAILED errno=%s after %.1fs: %s" % (e.errno, time.monotonic() - start, e.string))
    sys.exit(0 if e.errno in (errno.EIO, "EIO") else 3)
PY
client=$!
await 30 "the client connected" test -e "$WORK/client.fifo.ready"
if [ "${SPLIT_GAP:-0}" = 0 ]; then
  log "SIGSTOP n2 and n3"
  kill -STOP "${NODE_PID[n2]}" "${NODE_PID[n3]}"
else
  # The pauses noticed one after the other: n1 first forms an epoch with n2, then loses it.
  log "SIGSTOP n3, then n2 ${SPLIT_GAP} s later"
  kill -STOP "${NODE_PID[n3]}"
  sleep "$SPLIT_GAP"
  kill -STOP "${NODE_PID[n2]}"
fi
on_exit "kill -CONT ${NODE_PID[n2]} ${NODE_PID[n3]}"
await 15 "n1 knows it has no quorum" not_serving n1
status=$(info n1 | field status)
log "n1 says: $status"
# "1 of the 3 nodes", or "1 of the 2" when one of the pauses was noticed first
case $status in "no quorum: this node sees 1 of the "*) ;; *) fail "cluster info on n1 does not say why: $status" ;; esac
touch "$WORK/client.fifo.go"
wait $client || fail "the connected client's write did not fail with EIO: $(cat "$WORK/client.out")"
log "connected client: $(cat "$WORK/client.out")"
took=$(sed -n 's/.*after \([0-9]*\)\..*/\1/p' "$WORK/client.out")
[ "${took:-99}" -le 12 ] || fail "the refusal took ${took}s (more than ~10 s)"
# A new client cannot even claim the VDI without quorum, and is told why.
if qemu-io -f raw -c 'write -P 0x66 0 64k' "$(nbd_uri n1 disk)" >"$WORK/qemu-io.out" 2>&1; then
  fail "the lone node acknowledged a write without quorum: $(cat "$WORK/qemu-io.out")"
fi
grep -q "no quorum" "$WORK/qemu-io.out" || fail "a new client is not told why: $(cat "$WORK/qemu-io.out")"

log "SIGCONT n2 and n3"
kill -CONT "${NODE_PID[n2]}" "${NODE_PID[n3]}"
await 60 "one cluster again" settled_now
e=$(info n1 | field epoch)
for n in n2 n3; do
  [ "$(info $n | field epoch)" = "$e" ] || fail "node $n is at another epoch than n1 ($e)"
done
log "one cluster at epoch $e"
# Through n1: its client's claim on the VDI could not be given up without quorum (a catalogue
# change); n1 claims it again, and gives it up when this client leaves.
qemu-io -f raw -c 'write -P 0x77 1M 64k' "$(nbd_uri n1 disk)" >"$WORK/after.out" 2>&1 || fail "write after the heal failed"
grep -qi 'error\|fail' "$WORK/after.out" && fail "write after the heal failed: $(cat "$WORK/after.out")"
first=""
for n in n1 n2 n3; do
  rm -f "$WORK/out.img"
  nbdcopy "$(nbd_uri $n disk)" "$WORK/out.img" || fail "reading through $n failed"
  /usr/bin/python3 -I - "$WORK/out.img" "$WORK/before.img" <<'PY' || fail "data read through $n is not what was written"
import sys
got = open(sys.argv[1], 'rb').read()
want = bytearray(open(sys.argv[2], 'rb').read())
want[1 << 20:(1 << 20) + 65536] = b'\x77' * 65536
sys.exit(0 if got[:len(want)] == bytes(want) else 1)
PY
  sum=$(sha256sum <"$WORK/out.img" | cut -d' ' -f1)
  [ -z "$first" ] || [ "$sum" = "$first" ] || fail "node $n reads other bytes than n1"
  first=$sum
  log "read through $n: the data written before the split (and after the heal), identical on every node"
done
log "ok"
