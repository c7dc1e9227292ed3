#!/usr/bin/env bash
# Replication across node processes: three nodes with 3 copies, then a fresh four-node cluster with
# 2 copies. A VDI filled with random data through one node's NBD port reads back identically
# through every other node, and each object's file exists on exactly the nodes 'vdi object' names.
source "$(dirname "$0")/lib.sh"

# wait_members NODE COUNT: until NODE's 'node list' shows COUNT members.
# check_placement VIA VDI COPIES NODE...: every allocated object of VDI is stored on exactly the
# nodes 'vdi object' lists (COPIES of them) and on no other of the given nodes.
check_placement() {
  local via=$1 vdi=$2 copies=$3; shift 3
  local map=""
  for n in "$@"; do map+="$(addr "$n")=${NODE_DIR[$n]} "; done
  kelpie vdi object -a "$(addr "$via")" "$vdi" --json >"$WORK/objects.json"
  python3 - "$WORK/objects.json" "$copies" $map <<'PY' || fail "object placement differs from 'vdi object'"
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
        print(f"object {o['oid']} (index {o['index']}): vdi object names {sorted(named)}, files on {sorted(on_disk)}", file=sys.stderr)
        bad += 1
print(f"{len(objects)} objects, each on exactly its {copies} named nodes", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# roundtrip WRITER VDI SIZE READER...: random data in through WRITER's NBD port, out through each READER's.
roundtrip() {
  local writer=$1 vdi=$2 size=$3; shift 3
  head -c "$size" /dev/urandom >"$WORK/in.img"
  nbdcopy "$WORK/in.img" "$(nbd_uri "$writer" "$vdi")" || fail "writing through $writer failed"
  local want; want=$(sha256sum <"$WORK/in.img" | cut -d' ' -f1)
  for r in "$writer" "$@"; do
    rm -f "$WORK/out.img"
    nbdcopy "$(nbd_uri "$r" "$vdi")" "$WORK/out.img" || fail "reading through $r failed"
    [ "$(sha256sum <"$WORK/out.img" | cut -d' ' -f1)" = "$want" ] || fail "data read through $r differs from what was written"
    log "read back through $r: checksums equal"
  done
}

log "three nodes, 3 copies"
start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
wait_members n3 3
kelpie cluster format -a "$(addr n2)" --copies 3 >/dev/null
kelpie vdi create -a "$(addr n3)" disk 64M >/dev/null
roundtrip n1 disk $((64 << 20)) n2 n3
check_placement n2 disk 3 n1 n2 n3
kelpie cluster info -a "$(addr n3)" | grep -q "^Epoch: 1$" || fail "cluster info does not show epoch 1"

log "graceful leave of n3: a new epoch on the others"
stop_node n3
deadline=$((SECONDS + 30))
until kelpie cluster info -a "$(addr n1)" | grep -q "^Epoch: 2$"; do
  [ $SECONDS -lt $deadline ] || fail "no epoch 2 after n3 left"
  sleep 0.5
done
stop_node n1; stop_node n2

log "four nodes, 2 copies"
start_node m1
start_node m2 --join "$(addr m1)"
start_node m3 --join "$(addr m1)"
start_node m4 --join "$(addr m2)"
wait_members m1 4
wait_members m4 4
kelpie cluster format -a "$(addr m4)" --copies 2 >/dev/null
kelpie vdi create -a "$(addr m1)" disk 96M >/dev/null
roundtrip m2 disk $((96 << 20)) m1 m3 m4
check_placement m3 disk 2 m1 m2 m3 m4
kelpie node list -a "$(addr m1)"
log "PASS"
