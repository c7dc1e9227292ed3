#!/usr/bin/env bash
# A store that fails: three nodes with 3 copies; n3's objects directory is its own small ext4 file
# system on a loop device. While fio writes and verifies through n1, that file system fails
# (ext4's trigger_fs_error: it goes read-only at once, under open files, as after a disk error).
# n3 must notice, leave the cluster and exit with status 6 and a one-line reason; fio must pass
# (writes go on with the remaining replicas, min-copies); the data reads back identical through
# n1 and n2, and fio's verify pass through n2 finds every block it wrote.
source "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v losetup >/dev/null; then
  skip "needs root and losetup for a loop-mounted file system"
fi

truncate -s 512M "$WORK/n3.img"
LOOP=$(losetup -f --show "$WORK/n3.img") || fail "no free loop device"
on_exit "losetup -d $LOOP"
mkfs.ext4 -q -m 0 "$LOOP"
NODE_DIR[n3]=$WORK/n3
mkdir -p "$WORK/n3/objects"
mount -o errors=remount-ro "$LOOP" "$WORK/n3/objects"
on_exit "umount -l $WORK/n3/objects"
ERRFILE=/sys/fs/ext4/$(basename "$LOOP")/trigger_fs_error
[ -w "$ERRFILE" ] || skip "this kernel's ext4 has no $ERRFILE"

start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
wait_members n3 3
kelpie cluster format -a "$(addr n1)" --copies 3 >/dev/null
kelpie vdi create -a "$(addr n1)" disk 256M >/dev/null

cd "$WORK"  # fio leaves verify state files in the current directory
FIO=(--ioengine=nbd --rw=randwrite --bsrange=4k-64k --iodepth=16 --numjobs=2 --size=96M --offset_increment=96M
     --verify=crc32c --verify_fatal=1 --randseed=7)
fio --name=sick "${FIO[@]}" --uri="$(nbd_uri n1 disk)" --do_verify=1 --output="$WORK/fio.out" &
FIO_PID=$!
sleep 3
log "failing n3's file system under the running fio"
echo kelpie >"$ERRFILE"
grep -q "$WORK/n3/objects .*\bro\b\|emergency_ro" /proc/mounts || log "note: /proc/mounts does not show n3's objects read-only"

rc=0
deadline=$((SECONDS + 60))
while kill -0 "${NODE_PID[n3]}" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "n3 still runs 60 s after its store failed"
  sleep 0.2
done
wait "${NODE_PID[n3]}" || rc=$?
[ $rc = 6 ] || fail "n3 exited with $rc, expected 6 (store failed)"
grep -q "kelpie: node left the cluster: its object store failed: " "$WORK/n3.log" || fail "n3 gave no one-line reason"
log "n3 left: $(grep 'kelpie: node left the cluster' "$WORK/n3.log")"
wait_members n1 2

rc=0
wait "$FIO_PID" || rc=$?
[ $rc = 0 ] || fail "fio failed ($rc): $(tail -n 30 "$WORK/fio.out")"
grep -Eq 'verify: bad|verify failed' "$WORK/fio.out" && fail "verify errors: $(grep -E 'bad|failed' "$WORK/fio.out" | head)"
[ "$(grep -c 'err= 0' "$WORK/fio.out")" = 2 ] || fail "fio jobs reported errors: $(cat "$WORK/fio.out")"
log "fio through n1 passed"

fio --name=sick "${FIO[@]}" --uri="$(nbd_uri n2 disk)" --verify_only --output="$WORK/verify.out" \
  || fail "verify through n2 failed: $(tail -n 30 "$WORK/verify.out")"
grep -q 'err= 0' "$WORK/verify.out" || fail "verify through n2: $(cat "$WORK/verify.out")"
nbdcopy "$(nbd_uri n1 disk)" "$WORK/a.img" || fail "reading through n1 failed"
nbdcopy "$(nbd_uri n2 disk)" "$WORK/b.img" || fail "reading through n2 failed"
cmp -s "$WORK/a.img" "$WORK/b.img" || fail "n1 and n2 serve different bytes"
log "data reads back identical through n1 and n2"
log "PASS"
