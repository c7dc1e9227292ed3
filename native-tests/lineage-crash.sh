#!/usr/bin/env bash
# Real node processes halted (as kill -9 would, by the test-only property
# kelpie.test.haltAfterOrdering) right after a catalogue change was ordered and before the node
# did the I/O after it. A clone: its inode object was never written; the parent snapshot is
# deleted before anyone opens the clone, and the clone still reads the snapshot's bytes through
# another node, takes writes, and reads the same through the restarted node. A delete: nothing
# was reclaimed yet; with no further delete the surviving nodes free every object of the VDI and
# their used space comes back. Three nodes, 2 copies.
source "$(dirname "$0")/lib.sh"

MiB=$((1 << 20))
SIZE=$((32 * MiB))
HALT=-Dkelpie.test.haltAfterOrdering

# halted NODE KIND: the node's JVM stopped itself at the crash point (not by some other failure).
halted() {
  local rc=0
  wait "${NODE_PID[$1]}" 2>/dev/null || rc=$?
  [ "$rc" = 137 ] || fail "node $1 exited with $rc, expected the test halt (137)"
  grep -q "TEST ONLY: halting after ordering $2" "$WORK/$1.log" || fail "node $1 did not halt after ordering $2"
}

# sum_of FILE: sha256 of a local file.
sum_of() { sha256sum <"$1" | cut -d' ' -f1; }

# objects_of VID NODE...: object files (data and inode) of VDI id VID (6 hex digits) on the given nodes.
objects_of() {
  local vid=$1 total=0 node; shift
  for node in "$@"; do
    total=$((total + $(find "${NODE_DIR[$node]}/objects" -regextype posix-extended -regex ".*/[08]0${vid}[0-9a-f]{8}" | wc -l)))
  done
  echo "$total"
}

# vid_of NODE NAME: the VDI id of NAME, 6 hex digits.
vid_of() {
  kelpie vdi list -a "$(addr "$1")" --json | python3 -c '
import json, sys
print(next(v["vdi_id"] for v in json.load(sys.stdin) if v["name"] == sys.argv[1] and not v["snapshot"]))' "$2"
}

# used_on NODE: bytes NODE's store uses, as 'node info' reports them.
used_on() {
  kelpie node info -a "$(addr "$1")" --json | python3 -c '
import json, sys
addr = sys.argv[1]
print(next(n["used"] for n in json.load(sys.stdin)["nodes"] if n["address"] == addr))' "$(addr "$1")"
}

log "three nodes, 2 copies; n3 halts after ordering a clone"
start_node n1
start_node n2 --join "$(addr n1)"
NODE_JAVA_OPTS="$HALT=CLONE" start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
wait_members n3 3
kelpie cluster format -a "$(addr n1)" --copies 2 >/dev/null

kelpie vdi create -a "$(addr n1)" vm 32M >/dev/null
head -c $((12 * MiB)) /dev/urandom >"$WORK/A"
head -c $((2 * MiB)) /dev/urandom >"$WORK/B"
head -c $((3 * MiB)) /dev/urandom >"$WORK/C"
kelpie vdi write -a "$(addr n1)" vm 0 <"$WORK/A" >/dev/null
kelpie vdi snapshot -a "$(addr n1)" vm -s s1 >/dev/null
kelpie vdi write -a "$(addr n1)" vm $((4 * MiB)) <"$WORK/B" >/dev/null # the VDI goes its own way
head -c $SIZE /dev/zero >"$WORK/s1"
dd if="$WORK/A" of="$WORK/s1" conv=notrunc status=none
[ "$(sha_through n2 vm@s1)" = "$(sum_of "$WORK/s1")" ] || fail "vm@s1 does not read as written"

if kelpie vdi clone -a "$(addr n3)" vm cl -s s1 >/dev/null 2>"$WORK/err"; then
  fail "the clone succeeded although its node halted"
fi
halted n3 CLONE
wait_members n1 2
kelpie vdi list -a "$(addr n1)" >"$WORK/vl"
grep -Eq '^c +cl ' "$WORK/vl" || fail "the clone is not in the catalogue: $(cat "$WORK/vl")"

log "the parent snapshot and its VDI are deleted before anyone opens the clone"
kelpie vdi delete -a "$(addr n1)" vm -s s1 >/dev/null
kelpie vdi delete -a "$(addr n2)" vm >/dev/null
[ "$(sha_through n2 cl)" = "$(sum_of "$WORK/s1")" ] || fail "the clone does not read its parent snapshot's bytes"
log "the clone reads the deleted snapshot's bytes through n2"

cp "$WORK/s1" "$WORK/cl"
kelpie vdi write -a "$(addr n2)" cl $((20 * MiB)) <"$WORK/C" >/dev/null
dd if="$WORK/C" of="$WORK/cl" bs=64K seek=$((20 * MiB)) oflag=seek_bytes conv=notrunc status=none
[ "$(sha_through n1 cl)" = "$(sum_of "$WORK/cl")" ] || fail "the clone does not read what was written to it"

start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
[ "$(sha_through n3 cl)" = "$(sum_of "$WORK/cl")" ] || fail "the clone reads otherwise through the restarted n3"
log "the restarted node reads the clone alike"

log "n3 halts after ordering a delete"
stop_node n3
wait_members n1 2
NODE_JAVA_OPTS="$HALT=DELETE" start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
wait_recovered n1
used_before=$(used_on n1)
kelpie vdi create -a "$(addr n1)" disk 32M >/dev/null
head -c $((16 * MiB)) /dev/urandom | kelpie vdi write -a "$(addr n1)" disk 0 >/dev/null
disk=$(vid_of n1 disk)
[ "$(objects_of "$disk" n1 n2 n3)" = 10 ] || fail "the disk has $(objects_of "$disk" n1 n2 n3) object files, expected 5 twice"
if kelpie vdi delete -a "$(addr n3)" disk >/dev/null 2>"$WORK/err"; then
  fail "the delete succeeded although its node halted"
fi
halted n3 DELETE
wait_members n1 2
deadline=$((SECONDS + 60))
until [ "$(objects_of "$disk" n1 n2)" = 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "the interrupted delete left $(objects_of "$disk" n1 n2) object file(s) of the disk"
  sleep 0.5
done
kelpie vdi list -a "$(addr n1)" >"$WORK/vl"
if grep -Eq ' disk ' "$WORK/vl"; then fail "the deleted disk is still listed"; fi
log "the interrupted delete finished without another delete: the disk's objects are gone from n1 and n2"

# n3 back (the membership of before the disk): n1 holds what it held then, so its space is back.
start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
wait_recovered n1
used_after=$(used_on n1)
[ "$used_after" -le $((used_before + MiB)) ] || fail "n1 uses $used_after bytes, $used_before before the disk"
log "n1 uses $used_after bytes, $used_before before the disk; n3 kept $(objects_of "$disk" n3) file(s) of the disk it held when it halted"
[ "$(sha_through n1 cl)" = "$(sum_of "$WORK/cl")" ] || fail "the clone changed"
log "PASS"
