#!/usr/bin/env bash
# A disk filled to its last block, twice, on one node whose --dir is a 64 MiB ext4 file system on a
# loop device: writes of distinct 4 MiB objects until ENOSPC, then 4 KiB writes into new objects
# until ENOSPC again. The space reserve (4 MiB here: 2% of 64 MiB is less than the least default)
# keeps what metadata needs, so 'vdi delete' succeeds (it rewrites the VDI's inode before any space
# comes back) and writes go on afterwards. The second time the node is restarted while full (its
# catalogue is saved on the way down, its epoch log written on the way up), with --reserve 6M: it
# must start, serve reads, take the delete, and then writes.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v qemu-io >/dev/null; then
  skip "needs root (a loop mount) and qemu-io"
fi

small_disk n1 64M

avail_kib() { df --output=avail -k "$WORK/n1" | tail -n 1 | tr -d ' '; }

start_node n1
A=$(addr n1)
grep -q "a space reserve of 4 MiB for metadata" "$WORK/n1.log" || fail "no 4 MiB reserve: $(grep -m1 reserve "$WORK/n1.log")"
kelpie cluster format -a "$A" --copies 1 >/dev/null
kelpie vdi create -a "$A" keep 4M >/dev/null
head -c 4M /dev/urandom >"$WORK/keep.bin"
want=$(sha256sum <"$WORK/keep.bin" | cut -d' ' -f1)
nbdcopy "$WORK/keep.bin" "$(nbd_uri n1 keep)" || fail "writing keep"

# VDI: 4 MiB objects until ENOSPC, then 4 KiB into new objects until ENOSPC again.
fill_to_the_last_block() {
  local vdi=$1 i=0 small=0
  kelpie vdi create -a "$A" "$vdi" 4G >/dev/null
  while qemu-io -f raw -c "write -P 0x5a $((i * 4))M 4M" "$(nbd_uri n1 "$vdi")" >"$WORK/w.out" 2>&1 \
      && ! grep -q "failed" "$WORK/w.out"; do
    i=$((i + 1))
    [ $i -lt 32 ] || fail "$i objects of 4 MiB fit on a 64 MiB disk"
  done
  grep -q "No space left on device" "$WORK/w.out" || fail "writing object $i of $vdi: $(cat "$WORK/w.out")"
  for ((j = i + 1; ; j++)); do
    qemu-io -f raw -c "write -P 0x5b $((j * 4))M 4k" "$(nbd_uri n1 "$vdi")" >"$WORK/w.out" 2>&1 || true
    grep -q "failed" "$WORK/w.out" && break
    small=$((small + 1))
    [ $small -lt 1000 ] || fail "1000 new objects after the disk was full"
  done
  grep -q "No space left on device" "$WORK/w.out" || fail "a small write into $vdi: $(cat "$WORK/w.out")"
  log "$vdi filled the disk: $i objects of 4 MiB, then $small of 4 KiB; $(avail_kib) KiB left"
  # Filled to the reserve: not a data block more, and (the reserve) not less than a few MiB either.
  [ "$(avail_kib)" -lt $((5 * 1024)) ] || fail "writes stopped with $(avail_kib) KiB free"
  [ "$(avail_kib)" -ge $((3 * 1024)) ] || fail "data took the reserve: $(avail_kib) KiB free"
}

# VDI goes: the delete succeeds and the space comes back; then NAME takes 8 MiB that read back.
delete_and_write() {
  local vdi=$1 name=$2
  kelpie vdi delete -a "$A" "$vdi" >"$WORK/del.out" 2>&1 || fail "deleting $vdi on a full disk: $(cat "$WORK/del.out")"
  local deadline=$((SECONDS + 30))
  until [ "$(avail_kib)" -gt $((40 * 1024)) ]; do
    [ $SECONDS -lt $deadline ] || fail "deleting $vdi freed no space: $(avail_kib) KiB free"
    sleep 0.2
  done
  kelpie vdi create -a "$A" "$name" 8M >/dev/null || fail "creating $name after the delete"
  head -c 8M /dev/urandom >"$WORK/$name.bin"
  nbdcopy "$WORK/$name.bin" "$(nbd_uri n1 "$name")" || fail "writing $name after the delete"
  [ "$(sha_through n1 "$name")" = "$(sha256sum <"$WORK/$name.bin" | cut -d' ' -f1)" ] || fail "$name reads back different bytes"
}

log "filling the disk to its last block"
fill_to_the_last_block fill
[ "$(sha_through n1 keep)" = "$want" ] || fail "keep reads back different bytes on a full disk"
kelpie vdi create -a "$A" meta 1M >/dev/null || fail "a new VDI's inode on a full disk (half the reserve is for it)"
delete_and_write fill again
log "a delete on a disk with no data block left freed it"

log "filling it again, and restarting the node while it is full"
fill_to_the_last_block fill2
stop_node n1
grep -q "cannot save the VDI catalogue" "$WORK/n1.log" && fail "the catalogue was not saved on a full disk"
start_node n1 --reserve 6M # larger than what is left: still full, and still it serves and deletes
grep -q "a space reserve of 6 MiB for metadata" "$WORK/n1.log" || fail "--reserve 6M: $(grep reserve "$WORK/n1.log" | tail -n 1)"
[ "$(sha_through n1 keep)" = "$want" ] || fail "keep reads back different bytes after the restart"
[ "$(sha_through n1 again)" = "$(sha256sum <"$WORK/again.bin" | cut -d' ' -f1)" ] || fail "again changed over the restart"
kelpie vdi list -a "$A" | grep -q fill2 || fail "fill2 is gone from the catalogue after the restart"
delete_and_write fill2 after
kill -0 "${NODE_PID[n1]}" 2>/dev/null || fail "the node died"
grep -E "object store failed|disabled here|cannot save|store failed" "$WORK/n1.log" \
  && fail "a full disk failed a write it should not have"
[ -n "${KEEP_LOG:-}" ] && cp "$WORK/n1.log" "$KEEP_LOG"
log "PASS"
