#!/usr/bin/env bash
# QEMU's NBD client: qemu-img info/convert/compare/map and qemu-io patterns against a VDI.
source "$(dirname "$0")/lib.sh"
start_node n1
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create img 64M -a "$(addr n1)" >/dev/null
uri=$(nbd_uri n1 img)

qemu-img info "$uri" | grep -q 'virtual size: 64 MiB' || fail "qemu-img info: $(qemu-img info "$uri")"

# A qcow2 image with known content in two places, the rest unallocated.
qemu-img create -q -f qcow2 "$WORK/src.qcow2" 64M
qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 9M 2M' "$WORK/src.qcow2" >/dev/null
qemu-img convert -n -f qcow2 -O raw "$WORK/src.qcow2" "$uri" || fail "convert into the VDI"
qemu-img compare -f qcow2 -F raw "$WORK/src.qcow2" "$uri" || fail "VDI differs from the qcow2 image"
qemu-img convert -f raw -O qcow2 "$uri" "$WORK/back.qcow2" || fail "convert out of the VDI"
qemu-img compare "$WORK/src.qcow2" "$WORK/back.qcow2" || fail "round trip differs"

# qemu-img map: objects 0 and 2 (4 MiB each) hold data, everything from 12 MiB on is a hole.
qemu-img map -f raw --output=json "$uri" >"$WORK/map.json"
python3 - "$WORK/map.json" <<'PY' || fail "qemu-img map: $(cat "$WORK/map.json")"
import json, sys
m = json.load(open(sys.argv[1]))
def at(off):
    return next(e for e in m if e["start"] <= off < e["start"] + e["length"])
assert at(0)["data"] and at(9 << 20)["data"], m
assert not at(5 << 20)["data"] and at(5 << 20)["zero"], m
assert not at(40 << 20)["data"] and at(40 << 20)["zero"], m
PY

out=$(qemu-io -f raw -c 'write -P 0x33 20M 64k' -c 'read -P 0x33 20M 64k' -c 'read -P 0 21M 4k' \
  -c 'write -z 20M 4k' -c 'read -P 0 20M 4k' -c 'read -P 0x33 20975616 60k' -c 'flush' -c 'read -P 0x5a 0 1M' "$uri" 2>&1)
echo "$out" | grep -qi 'fail\|error' && fail "qemu-io: $out"
[ "$(echo "$out" | grep -c '^read')" = 5 ] || fail "qemu-io reads: $out"
log "PASS"
