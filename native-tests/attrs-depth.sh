#!/usr/bin/env bash
# VDI attributes through the CLI (text and binary values, compared byte for byte; -x exclusive
# create, -d delete, the 64 KiB limit, a snapshot's own attributes, a restart keeps them; deletes
# drop them: unit and MiniCluster tests), and
# the NBD meta context qemu:allocation-depth of a clone: depth 1 where the clone wrote, 2 where it
# reads its parent snapshot's data, 3 for its grandparent's after a snapshot of the clone, 0
# elsewhere, as nbdinfo --map and qemu-img map see it.
source "$(dirname "$0")/lib.sh"

MiB=$((1 << 20))

# refused CMD...: fails with one line on stderr and a non-zero exit.
refused() {
  if kelpie "$@" -a "$(addr a1)" >"$WORK/out" 2>"$WORK/err" </dev/null; then fail "'$*' succeeded"; fi
  [ "$(wc -l <"$WORK/err")" = 1 ] || fail "'$*' did not fail with one line: $(cat "$WORK/err")"
  log "refused as it should: $* -> $(cat "$WORK/err")"
}

getattr_is() { # EXPORT KEY FILE: getattr prints exactly FILE's bytes
  kelpie vdi getattr -a "$(addr a1)" "$1" "$2" >"$WORK/got" || fail "getattr $1 $2 failed"
  cmp -s "$WORK/got" "$3" || fail "getattr $1 $2 differs from what was set"
}

# depth_map EXPORT: "offset length depth" lines from nbdinfo --map=qemu:allocation-depth.
depth_map() { nbdinfo --map=qemu:allocation-depth "$(nbd_uri a1 "$1")" | awk '{print $1, $2, $3}'; }

start_node a1
kelpie cluster format -a "$(addr a1)" --copies 1 >/dev/null
kelpie vdi create -a "$(addr a1)" vm 16M >/dev/null

log "attributes"
kelpie vdi setattr -a "$(addr a1)" vm owner bob || fail "setattr owner failed"
printf 'bob' >"$WORK/bob"
getattr_is vm owner "$WORK/bob"
head -c 65536 /dev/urandom >"$WORK/blob"
kelpie vdi setattr -a "$(addr a1)" vm blob <"$WORK/blob" || fail "setattr from stdin failed"
getattr_is vm blob "$WORK/blob"
refused vdi setattr -x vm owner carol
kelpie vdi setattr -a "$(addr a1)" -x vm lease holder1 || fail "exclusive create of a new key failed"
head -c 65537 /dev/urandom >"$WORK/toobig"
if kelpie vdi setattr -a "$(addr a1)" vm big <"$WORK/toobig" 2>"$WORK/err"; then fail "a 64 KiB + 1 value was taken"; fi
log "refused as it should: 64 KiB + 1 -> $(cat "$WORK/err")"
refused vdi getattr vm nosuchkey
kelpie vdi setattr -a "$(addr a1)" -d vm lease || fail "setattr -d failed"
refused vdi getattr vm lease
getattr_is vm owner "$WORK/bob"

log "a clone's allocation depth"
head -c $((8 * MiB)) /dev/urandom >"$WORK/A"
head -c $((4 * MiB)) /dev/urandom >"$WORK/B"
kelpie vdi write -a "$(addr a1)" vm 0 <"$WORK/A" >/dev/null   # objects 0 and 1
kelpie vdi write -a "$(addr a1)" vm 12M <"$WORK/B" >/dev/null # object 3
kelpie vdi snapshot -a "$(addr a1)" vm -s base >/dev/null
# The snapshot keeps the VDI's attributes as they were; the VDI goes on with its own.
getattr_is vm@base owner "$WORK/bob"
printf 'alice' >"$WORK/alice"
kelpie vdi setattr -a "$(addr a1)" vm owner alice
getattr_is vm owner "$WORK/alice"
kelpie vdi clone -a "$(addr a1)" vm c -s base >/dev/null
head -c $MiB /dev/urandom >"$WORK/C"
kelpie vdi write -a "$(addr a1)" c 4M <"$WORK/C" >/dev/null  # object 1: copied, the clone's own
kelpie vdi write -a "$(addr a1)" c 9M <"$WORK/C" >/dev/null  # object 2: new, the clone's own
depth_map c >"$WORK/map"
cat >"$WORK/want" <<WANT
0 4194304 2
4194304 8388608 1
12582912 4194304 2
WANT
diff "$WORK/want" "$WORK/map" >&2 || fail "allocation depth of the clone is not as written"
depth_map vm@base >"$WORK/map"
printf '0 8388608 1\n8388608 4194304 0\n12582912 4194304 1\n' >"$WORK/want"
diff "$WORK/want" "$WORK/map" >&2 || fail "allocation depth of the snapshot is not its own data"

# qemu-img map: QEMU 7.2's client reads qemu:allocation-depth when told to take it as the map
# (x-dirty-bitmap, as qemu's own tests do); then depth 1 reads as a hole, 2 as zero, 0 as data.
qemu-img map --output=json --image-opts \
  "driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=${NODE_NBD[a1]},export=c,x-dirty-bitmap=qemu:allocation-depth" \
  >"$WORK/qmap.json" || fail "qemu-img map of the clone failed"
python3 - "$WORK/qmap.json" <<'PY' || fail "qemu-img map does not show which data is the clone's own: $(cat "$WORK/qmap.json")"
import json, sys
m = json.load(open(sys.argv[1]))
own = [(e["start"], e["length"]) for e in m if not e["data"] and not e["zero"]]
parent = [(e["start"], e["length"]) for e in m if e["data"] and e["zero"]]
assert own == [(4 << 20, 8 << 20)], (own, m)
assert parent == [(0, 4 << 20), (12 << 20, 4 << 20)], (parent, m)
PY
log "qemu-img map: $(tr -d '\n' <"$WORK/qmap.json")"

# A snapshot of the clone: what the clone read from vm@base is now two steps up the chain.
kelpie vdi snapshot -a "$(addr a1)" c -s cs >/dev/null
kelpie vdi write -a "$(addr a1)" c 15M <"$WORK/C" >/dev/null  # object 3: the clone's own again
depth_map c >"$WORK/map"
printf '0 4194304 3\n4194304 8388608 2\n12582912 4194304 1\n' >"$WORK/want"
diff "$WORK/want" "$WORK/map" >&2 || fail "allocation depth after a snapshot of the clone is wrong"

log "a restart keeps the attributes"
stop_node a1
start_node a1
getattr_is vm blob "$WORK/blob"
getattr_is vm@base owner "$WORK/bob"
log "PASS"
