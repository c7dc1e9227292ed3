#!/usr/bin/env bash
# Rolling restart under load: 3 nodes, copies 3. While fio writes (and later verifies) through n1,
# n2 and then n3 are restarted one at a time (SIGTERM, start again), each after the cluster has
# finished recovering from the previous one. fio sees no error, every object ends on exactly 3
# nodes, and the VDI reads back identical through every node.
source "$(dirname "$0")/lib.sh"

start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1)"
wait_members n1 3
kelpie cluster format -a "$(addr n1)" --copies 3 >/dev/null
kelpie vdi create -a "$(addr n1)" roll 64M >/dev/null

cd "$WORK"  # fio leaves verify state files in the current directory
# Rate-limited so that the write phase outlasts both restarts; fio verifies every block after it.
fio --name=roll --ioengine=nbd --uri="$(nbd_uri n1 roll)" --rw=randwrite --bsrange=4k-64k --iodepth=8 \
  --size=64M --rate=2m --verify=crc32c --verify_fatal=1 --do_verify=1 --output="$WORK/fio.out" &
FIO=$!
on_exit "kill $FIO"

used_bytes() { kelpie vdi list -a "$(addr n1)" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["used"])'; }
deadline=$((SECONDS + 60))
until [ "$(used_bytes)" -ge $((16 << 20)) ]; do [ $SECONDS -lt $deadline ] || fail "fio wrote nothing"; sleep 0.5; done

for n in n2 n3; do
  e=$(epoch_of n1)
  log "restart $n at epoch $e while fio runs"
  stop_node "$n"
  wait_epoch_above n1 "$e"
  e=$(epoch_of n1)
  start_node "$n" --join "$(addr n1)"
  wait_epoch_above n1 "$e"
  wait_members n1 3
  wait_recovered n1
  kill -0 "$FIO" 2>/dev/null || break
done

wait "$FIO" || fail "fio failed: $(tail -n 30 "$WORK/fio.out")"
fio_ok "$WORK/fio.out" 1
wait_recovered n1
copies_check 3 n1 n2 n3
want=$(sha_through n1 roll)
for n in n2 n3; do
  [ "$(sha_through "$n" roll)" = "$want" ] || fail "roll reads back differently through $n"
done
log "PASS"
