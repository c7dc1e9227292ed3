#!/usr/bin/env bash
# A full disk: one node whose --dir is a 64 MiB ext4 file system on a loop device. Writing more
# than fits must fail with ENOSPC (qemu-io says "No space left on device"), and the node must stay
# up (no "store failed", no disabled object), keep serving reads (the VDI written before reads back
# byte for byte, the one that filled the disk reads without a checksum error: no torn block),
# and take writes again, without a restart, once a VDI is deleted and its objects reclaimed.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v qemu-io >/dev/null; then
  skip "needs root (a loop mount) and qemu-io"
fi

small_disk n1 64M

start_node n1
A=$(addr n1)
kelpie cluster format -a "$A" --copies 1 >/dev/null
kelpie vdi create -a "$A" keep 8M >/dev/null
kelpie vdi create -a "$A" fill 128M >/dev/null
head -c 8M /dev/urandom >"$WORK/keep.bin"
want=$(sha256sum <"$WORK/keep.bin" | cut -d' ' -f1)
nbdcopy "$WORK/keep.bin" "$(nbd_uri n1 keep)" || fail "writing keep"
[ "$(sha_through n1 keep)" = "$want" ] || fail "keep reads back different bytes"

# Every other object of fill exists before the disk fills (4 KiB each): the big write then runs
# out of space both in writes into objects that exist and in creates of new ones.
touch=()
for i in $(seq 1 2 23); do touch+=(-c "write -P 0x5a $((i * 4))M 4k"); done
qemu-io -f raw "${touch[@]}" "$(nbd_uri n1 fill)" >/dev/null || fail "writing the first blocks of fill"
log "filling the disk through fill"
qemu-io -f raw -c 'write -P 0x5a 0 96M' "$(nbd_uri n1 fill)" >"$WORK/fill.out" 2>&1 || true
grep -q "No space left on device" "$WORK/fill.out" || fail "writing 96M on a 64M disk: $(cat "$WORK/fill.out")"
log "the write failed as it should: $(grep -m1 'No space' "$WORK/fill.out")"
grep -q "data directory .* is full" "$WORK/n1.log" || fail "the node logged no full disk"

# Stays up across several probes (one a second; two failed ones would fail the store), serving reads.
until=$((SECONDS + 3))
while [ $SECONDS -le $until ]; do
  kill -0 "${NODE_PID[n1]}" 2>/dev/null || fail "the node died on a full disk: $(tail -n 20 "$WORK/n1.log")"
  [ "$(sha_through n1 keep)" = "$want" ] || fail "keep reads back different bytes on a full disk"
done
# Overwriting data already stored needs no new space: it goes on.
qemu-io -f raw -c 'write -P 0x11 0 1M' "$(nbd_uri n1 keep)" >"$WORK/over.out" 2>&1 \
  && ! grep -q "failed" "$WORK/over.out" || fail "overwriting keep on a full disk: $(cat "$WORK/over.out")"
head -c 1M /dev/zero | tr '\0' '\021' | dd of="$WORK/keep.bin" conv=notrunc status=none
want=$(sha256sum <"$WORK/keep.bin" | cut -d' ' -f1)
[ "$(sha_through n1 keep)" = "$want" ] || fail "keep after the overwrite reads back different bytes"

# What the failed write stored reads without a checksum error: each byte the pattern or a hole's zero.
nbdcopy "$(nbd_uri n1 fill)" "$WORK/fill.img" || fail "reading fill after ENOSPC failed (a torn block?)"
python3 - "$WORK/fill.img" <<'PY' || fail "fill holds bytes that no write put there"
import sys
data = open(sys.argv[1], "rb").read()
stored = data.count(0x5a)
if stored + data.count(0) != len(data) or stored < (16 << 20):
    sys.exit(f"{stored} bytes of the pattern, {len(data) - stored - data.count(0)} others")
print(f"fill kept {stored >> 20} MiB of the failed write, every block verified", file=sys.stderr)
PY
rm -f "$WORK/fill.img"
grep -E "object store failed|disabled here|left the cluster" "$WORK/n1.log" && fail "a full disk was taken for a failed one"

log "deleting fill frees the space; writes go on without a restart"
kelpie vdi delete -a "$A" fill >/dev/null
deadline=$((SECONDS + 30))
until [ "$(df --output=avail -k "$WORK/n1" | tail -n 1)" -gt $((40 * 1024)) ]; do
  [ $SECONDS -lt $deadline ] || fail "deleting fill freed no space: $(df -k "$WORK/n1" | tail -n 1)"
  sleep 0.2
done
kelpie vdi create -a "$A" again 32M >/dev/null
head -c 32M /dev/urandom >"$WORK/again.bin"
nbdcopy "$WORK/again.bin" "$(nbd_uri n1 again)" || fail "writing after space was freed"
[ "$(sha_through n1 again)" = "$(sha256sum <"$WORK/again.bin" | cut -d' ' -f1)" ] || fail "again reads back different bytes"
[ "$(sha_through n1 keep)" = "$want" ] || fail "keep changed"
kill -0 "${NODE_PID[n1]}" 2>/dev/null || fail "the node died"
[ -n "${KEEP_LOG:-}" ] && cp "$WORK/n1.log" "$KEEP_LOG"
log "PASS"
