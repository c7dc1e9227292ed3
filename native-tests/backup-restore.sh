#!/usr/bin/env bash
# Incremental backup and restore between two clusters: cluster A (one node) backs up snapshot s1
# in full and s1 -> s2 incrementally; cluster B (three nodes, 2 copies) restores both, and every
# snapshot and VDI of B reads (nbdcopy, sha256) as A's. A corrupt, truncated or wrong-base stream,
# or a full stream onto a used VDI, is refused with one line and changes neither the catalogue
# nor the bytes. In A, rollback to s1 + restoring the incremental gives s2's bytes again.
source "$(dirname "$0")/lib.sh"

MiB=$((1 << 20))

# state VIA: remember VIA's catalogue and the bytes of vm, for the refusals that follow.
state() {
  kelpie vdi list -a "$(addr "$1")" --json >"$WORK/before.json"
  BEFORE_SHA=$(sha_through "$1" vm)
}

# refused VIA FILE CMD...: CMD < FILE fails with one line, and the catalogue and bytes are as state saw them.
refused() {
  local via=$1 file=$2; shift 2
  if kelpie "$@" -a "$(addr "$via")" <"$file" >"$WORK/out" 2>"$WORK/err"; then fail "'$*' < $(basename "$file") succeeded"; fi
  [ "$(wc -l <"$WORK/err")" = 1 ] || fail "'$*' did not fail with one line: $(cat "$WORK/err")"
  kelpie vdi list -a "$(addr "$via")" --json >"$WORK/after.json"
  cmp -s "$WORK/before.json" "$WORK/after.json" || fail "'$*' failed but changed the catalogue"
  log "refused as it should: $(basename "$file") -> $(cat "$WORK/err")"
}

unchanged() { [ "$(sha_through "$1" vm)" = "$BEFORE_SHA" ] || fail "a refused restore changed the bytes of vm"; }

same() { # NODE1 EXPORT1 NODE2 EXPORT2
  local x y; x=$(sha_through "$1" "$2"); y=$(sha_through "$3" "$4")
  [ "$x" = "$y" ] || fail "$2 through $1 ($x) differs from $4 through $3 ($y)"
}

log "cluster A: one node; cluster B: three nodes, 2 copies"
start_node a1
kelpie cluster format -a "$(addr a1)" --copies 1 >/dev/null
start_node b1
start_node b2 --join "$(addr b1)"
start_node b3 --join "$(addr b1),$(addr b2)"
wait_members b1 3
wait_members b3 3
kelpie cluster format -a "$(addr b2)" --copies 2 >/dev/null

log "A: write, snapshot s1; small writes, a zeroed range, snapshot s2; more, snapshot s3"
kelpie vdi create -a "$(addr a1)" vm 40M >/dev/null
head -c $((9 * MiB)) /dev/urandom | kelpie vdi write -a "$(addr a1)" vm 1M
kelpie vdi snapshot -a "$(addr a1)" vm -s s1 >/dev/null
for off in 4096 $((3 * MiB + 8192)) $((9 * MiB)); do
  head -c 4096 /dev/urandom | kelpie vdi write -a "$(addr a1)" vm "$off"
done
head -c $((64 * 1024)) /dev/zero | kelpie vdi write -a "$(addr a1)" vm $((6 * MiB))
head -c $((2 * MiB)) /dev/urandom | kelpie vdi write -a "$(addr a1)" vm 30M   # a new object
kelpie vdi snapshot -a "$(addr a1)" vm -s s2 >/dev/null
head -c 4096 /dev/urandom | kelpie vdi write -a "$(addr a1)" vm 0
kelpie vdi snapshot -a "$(addr a1)" vm -s s3 >/dev/null

kelpie vdi backup -a "$(addr a1)" vm -s s1 >"$WORK/full.kbk"
kelpie vdi backup -a "$(addr a1)" vm -F s1 -s s2 >"$WORK/inc.kbk"
kelpie vdi backup -a "$(addr a1)" vm -F s2 -s s3 >"$WORK/s3.kbk"
full=$(stat -c%s "$WORK/full.kbk"); inc=$(stat -c%s "$WORK/inc.kbk")
log "full backup $full bytes, incremental $inc bytes"
[ "$full" -gt $((9 * MiB)) ] && [ "$full" -lt $((9 * MiB + 65536)) ] || fail "full backup is $full bytes, not 9 MiB and a little"
# 3 x 4 KiB + 64 KiB zeroed + 2 MiB new: blocks only, not whole 4 MiB objects
[ "$inc" -lt $((2 * MiB + 200 * 1024)) ] || fail "incremental backup is $inc bytes: more than the blocks that changed"

log "B: restore the full backup onto a new empty VDI, take s1"
kelpie vdi create -a "$(addr b1)" vm 40M >/dev/null
kelpie vdi restore -a "$(addr b3)" vm -s s1 <"$WORK/full.kbk" >/dev/null || fail "full restore failed"
same a1 vm@s1 b1 vm@s1
same a1 vm@s1 b2 vm

log "B: bad streams are refused, changing nothing"
python3 - "$WORK/inc.kbk" "$WORK/corrupt.kbk" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[2], "wb").write(b)
PY
head -c $((inc - 10)) "$WORK/inc.kbk" >"$WORK/truncated.kbk"
head -c 1000 /dev/urandom >"$WORK/garbage.kbk"
state b1
refused b1 "$WORK/corrupt.kbk" vdi restore vm -s s2
refused b1 "$WORK/truncated.kbk" vdi restore vm -s s2
refused b1 "$WORK/garbage.kbk" vdi restore vm -s s2
refused b2 "$WORK/s3.kbk" vdi restore vm -s s3           # based on s2, B is at s1
refused b2 "$WORK/full.kbk" vdi restore vm -s again      # full onto a used VDI
refused b2 "$WORK/inc.kbk" vdi restore vm -s s1          # the tag exists
unchanged b3

log "B: apply the incremental, take s2; then s2 -> s3"
kelpie vdi restore -a "$(addr b2)" vm -s s2 <"$WORK/inc.kbk" >/dev/null || fail "incremental restore failed"
same a1 vm@s2 b3 vm@s2
same a1 vm@s1 b3 vm@s1
same a1 vm@s2 b1 vm
kelpie vdi restore -a "$(addr b1)" vm -s s3 <"$WORK/s3.kbk" >/dev/null || fail "second incremental restore failed"
same a1 vm@s3 b2 vm@s3
same a1 vm b2 vm

log "B: written since its last snapshot, an incremental is refused"
kelpie vdi rollback -a "$(addr b1)" vm -s s1 >/dev/null
head -c 4096 /dev/urandom | kelpie vdi write -a "$(addr b1)" vm 0
state b1
refused b1 "$WORK/inc.kbk" vdi restore vm -s s2b
unchanged b2

log "A: roll back to s1, restore the incremental: s2's bytes again"
kelpie vdi rollback -a "$(addr a1)" vm -s s1 >/dev/null
kelpie vdi restore -a "$(addr a1)" vm -s s2b <"$WORK/inc.kbk" >/dev/null || fail "restore after rollback failed"
same a1 vm@s2 a1 vm@s2b

if command -v script >/dev/null; then
  script -qec "java -jar $JAR vdi backup -a $(addr a1) vm -s s1" /dev/null >"$WORK/tty.out" 2>&1 && fail "backup wrote to a terminal"
  grep -q "terminal" "$WORK/tty.out" || fail "backup to a terminal: $(head -c 300 "$WORK/tty.out")"
  log "refused as it should: backup to a terminal"
fi
log "PASS"
