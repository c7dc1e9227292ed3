#!/usr/bin/env bash
# A full disk on one replica: two nodes, 2 copies, min-copies 1; n2's --dir is a 64 MiB ext4 on a
# loop device. Writing 96 MiB through n1 succeeds (n1 stores every object; n2 runs out and misses
# writes), n2 stays a member, and reading through n2 returns exactly what was written: its copies
# that missed writes and could not be repaired for want of space serve no stale bytes. Once a VDI
# is deleted, writes reach both replicas again and read back through either node.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
  skip "needs root (a loop mount)"
fi

small_disk n2 64M

start_node n1
start_node n2 --join "$(addr n1)"
wait_members n1 2
A=$(addr n1)
kelpie cluster format -a "$A" --copies 2 --min-copies 1 >/dev/null
kelpie vdi create -a "$A" big 96M >/dev/null
head -c 96M /dev/urandom >"$WORK/big.bin"
want=$(sha256sum <"$WORK/big.bin" | cut -d' ' -f1)

log "writing 96 MiB through n1: n2's disk fills"
nbdcopy "$WORK/big.bin" "$(nbd_uri n1 big)" || fail "the write failed although n1 had room (min-copies 1)"
grep -q "data directory .* is full" "$WORK/n2.log" || fail "n2 logged no full disk"
[ "$(sha_through n1 big)" = "$want" ] || fail "n1 serves different bytes"
[ "$(sha_through n2 big)" = "$want" ] || fail "n2 serves different bytes (a stale copy?)"
kill -0 "${NODE_PID[n2]}" 2>/dev/null || fail "n2 died on a full disk: $(tail -n 20 "$WORK/n2.log")"
[ "$(members_of n1)" = 2 ] || fail "n2 left the cluster"
grep -E "object store failed|left the cluster" "$WORK/n2.log" && fail "n2 took a full disk for a failed one"

log "deleting big frees n2's disk; writes reach both replicas again"
kelpie vdi delete -a "$A" big >/dev/null
deadline=$((SECONDS + 30))
until [ "$(df --output=avail -k "$WORK/n2" | tail -n 1)" -gt $((40 * 1024)) ]; do
  [ $SECONDS -lt $deadline ] || fail "deleting big freed no space on n2: $(df -k "$WORK/n2" | tail -n 1)"
  sleep 0.2
done
kelpie vdi create -a "$A" again 16M >/dev/null
head -c 16M /dev/urandom >"$WORK/again.bin"
want=$(sha256sum <"$WORK/again.bin" | cut -d' ' -f1)
nbdcopy "$WORK/again.bin" "$(nbd_uri n2 again)" || fail "writing through n2 after space was freed"
[ "$(sha_through n1 again)" = "$want" ] || fail "again through n1 differs"
[ "$(sha_through n2 again)" = "$want" ] || fail "again through n2 differs"
copies_check 2 n1 n2
log "PASS"
