#!/usr/bin/env bash
# A filesystem on a VDI: nbdfuse exposes it as a file, mkfs.ext4, loop mount, files written,
# node restarted, mounted again, files intact, e2fsck clean.
source "$(dirname "$0")/lib.sh"
start_node n1
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create fs 256M -a "$(addr n1)" >/dev/null
fuse=$WORK/fuse; mnt=$WORK/mnt; mkdir -p "$fuse" "$mnt"

attach() {
  nbdfuse -P "$WORK/nbdfuse.pid" "$fuse" "$(nbd_uri n1 fs)" &
  for _ in $(seq 50); do [ -s "$WORK/nbdfuse.pid" ] && [ -e "$fuse/nbd" ] && return 0; sleep 0.2; done
  fail "nbdfuse did not come up"
}
detach() {
  umount "$mnt" 2>/dev/null || true
  fusermount3 -u "$fuse" 2>/dev/null || true
  rm -f "$WORK/nbdfuse.pid"
}
on_exit detach

attach
mkfs.ext4 -q -F "$fuse/nbd" || fail "mkfs.ext4"
mount -o loop "$fuse/nbd" "$mnt" || fail "mount -o loop"
head -c 5M /dev/urandom >"$mnt/random.bin"
mkdir -p "$mnt/dir"; for i in $(seq 100); do echo "file $i" >"$mnt/dir/f$i"; done
(cd "$mnt" && find . -type f -exec sha256sum {} + | sort -k2) >"$WORK/sums"
sync
umount "$mnt"
detach

stop_node n1
start_node n1
attach
mount -o loop "$fuse/nbd" "$mnt" || fail "mount after restart"
(cd "$mnt" && find . -type f -exec sha256sum {} + | sort -k2) >"$WORK/sums2"
diff "$WORK/sums" "$WORK/sums2" || fail "files changed across the restart"
umount "$mnt"
e2fsck -f -n "$fuse/nbd" >"$WORK/fsck.out" 2>&1 || fail "e2fsck: $(cat "$WORK/fsck.out")"
detach
log "PASS"
