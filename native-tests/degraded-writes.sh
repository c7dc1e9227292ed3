#!/usr/bin/env bash
# Degraded writes and failover under fio: 3 nodes, copies 3 (min-copies 2), fio random writes
# verified with crc32c through n1; mid-run n2 is killed (-9). Writes go on with two copies; fio
# must see no error, no verify failure and no request slower than about 5 s.
# (A paused replica, SIGSTOP, is acknowledged around after the straggler window and recorded as a
# laggard; that the cluster then survives losing another node needs REPAIR_OBJ from recovery.)
source "$(dirname "$0")/lib.sh"
start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1),$(addr n2)"
deadline=$((SECONDS + 60))
until [ "$(kelpie node list -a "$(addr n1)" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)" = 3 ]; do
  [ $SECONDS -lt $deadline ] || fail "the three nodes did not form a cluster"
  sleep 0.5
done
kelpie cluster format -a "$(addr n1)" --copies 3 >/dev/null
kelpie vdi create -a "$(addr n1)" fio 96M >/dev/null
cd "$WORK"  # fio leaves verify state files in the current directory
fio --name=randw --ioengine=nbd --uri="$(nbd_uri n1 fio)" --rw=randwrite --bsrange=4k-128k --iodepth=16 \
  --numjobs=2 --size=32M --offset_increment=32M --loops=4 --verify=crc32c --verify_fatal=1 --do_verify=1 \
  --output-format=json --output="$WORK/fio.json" &
FIO=$!
sleep 3
log "killing n2"
kill_node n2
wait $FIO || fail "fio failed: $(tail -c 2000 "$WORK/fio.json")"
python3 - "$WORK/fio.json" <<'PY' || fail "fio saw errors or stalls"
import json, sys
r = json.load(open(sys.argv[1]))
bad = 0
for j in r["jobs"]:
    worst = max(j["write"]["clat_ns"]["max"], j["read"]["clat_ns"]["max"]) / 1e9
    print(f"job {j['jobname']}: error {j['error']}, slowest request {worst:.2f} s", file=sys.stderr)
    if j["error"] != 0 or worst > 5.5:
        bad += 1
sys.exit(1 if bad else 0)
PY
grep -q "missed a write" "$WORK/n1.log" || fail "n1 recorded no laggard"
grep -h "missed a write\|TOO_FEW\|failed:" "$WORK/n1.log" | head -5 >&2 || true
log "PASS"
