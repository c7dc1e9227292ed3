#!/usr/bin/env bash
# Heal after a node loss: three nodes with 3 copies, fio random writes with crc32c verify through
# node 1's NBD port while node 2 is killed with SIGKILL; fio passes. A fourth node joins, 'node
# recovery --watch' ends, and every object is on exactly the 3 live nodes (files on disk and
# 'vdi object' agree) without any client reading it there; fio's verify pass through the new
# node then finds every block it wrote.
source "$(dirname "$0")/lib.sh"

# on_exactly COPIES VDI VIA NODE...: every allocated object of VDI is stored by exactly the given
# live nodes (COPIES of them), which is also what 'vdi object' names.
on_exactly() {
  local copies=$1 vdi=$2 via=$3; shift 3
  local map=""
  for n in "$@"; do map+="$(addr "$n")=${NODE_DIR[$n]} "; done
  kelpie vdi object -a "$(addr "$via")" "$vdi" --json >"$WORK/objects.json"
  python3 - "$WORK/objects.json" "$copies" $map <<'PY' || fail "objects are not on exactly $copies live nodes"
import json, os, sys
objects = json.load(open(sys.argv[1]))
copies = int(sys.argv[2])
dirs = dict(a.split("=", 1) for a in sys.argv[3:])
assert objects, "no allocated objects"
bad = 0
for o in objects:
    named = set(o["nodes"])
    on_disk = {a for a, d in dirs.items() if os.path.exists(os.path.join(d, "objects", o["oid"]))}
    if len(named) != copies or named != on_disk:
        print(f"object {o['oid']}: vdi object names {sorted(named)}, files on {sorted(on_disk)}", file=sys.stderr)
        bad += 1
print(f"{len(objects)} objects, each on exactly {copies} live nodes", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

FIO_JOB=(--name=heal --rw=randwrite --bsrange=4k-64k --iodepth=16 --numjobs=2 --size=48M --offset_increment=48M
  --randrepeat=1 --verify=crc32c --verify_fatal=1)

start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
wait_members n3 3
kelpie cluster format -a "$(addr n1)" --copies 3 >/dev/null
kelpie vdi create -a "$(addr n1)" disk 96M >/dev/null

log "fio randwrite with verify through n1; n2 is killed mid-run"
cd "$WORK"  # fio leaves verify state files in the current directory
# Writes limited to 6 MiB/s per job (about 8 s in all), so that the kill lands mid-run.
fio --ioengine=nbd --uri="$(nbd_uri n1 disk)" "${FIO_JOB[@]}" --rate=,6m --do_verify=1 --output="$WORK/fio.out" &
FIO=$!
on_exit "kill $FIO"
sleep 2 # let fio get going: the kill must land mid-run
kill -0 $FIO 2>/dev/null || fail "fio ended before the kill: $(tail -n 20 "$WORK/fio.out")"
kill_node n2
log "n2 killed"
wait $FIO || fail "fio failed after the kill: $(tail -n 30 "$WORK/fio.out")"
grep -Eq 'verify: bad|verify failed' "$WORK/fio.out" && fail "verify errors: $(grep -E 'bad|failed' "$WORK/fio.out" | head)"
[ "$(grep -c 'err= 0' "$WORK/fio.out")" = 2 ] || fail "fio jobs reported errors: $(tail -n 40 "$WORK/fio.out")"
wait_members n1 2

log "n4 joins; waiting for recovery"
start_node n4 --join "$(addr n1),$(addr n3)"
wait_members n1 3
wait_members n4 3
timeout 180 java -jar "$JAR" node recovery -a "$(addr n3)" --watch >"$WORK/recovery.out" 2>&1 \
  || fail "recovery did not finish: $(tail -n 20 "$WORK/recovery.out")"
kelpie node recovery -a "$(addr n1)"
on_exactly 3 disk n1 n1 n3 n4
grep -q "recovered [0-9]* objects" "$WORK/n4.log" || fail "n4 logged no recovery pass"
log "$(grep -o 'epoch [0-9]*: recovered .*' "$WORK/n4.log" | tail -n 1)"

kelpie cluster check -a "$(addr n4)" || fail "cluster check found differences it could not repair"

log "fio verify pass through n4"
fio --ioengine=nbd --uri="$(nbd_uri n4 disk)" "${FIO_JOB[@]}" --verify_only --output="$WORK/verify.out" \
  || fail "verify through n4 failed: $(tail -n 30 "$WORK/verify.out")"
grep -Eq 'verify: bad|verify failed' "$WORK/verify.out" && fail "verify errors through n4: $(grep -E 'bad|failed' "$WORK/verify.out" | head)"
log "PASS"
