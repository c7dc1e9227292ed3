#!/usr/bin/env bash
# Snapshots, clones, rollback and deletes, driven through the CLI and read through NBD: the
# Sheepdog sequence (write A, snapshot s1, write B, snapshot s2, clone c from s1, write C to c,
# rollback to s1) with the checksum of every snapshot and VDI compared to a local model after each
# step; snapshots are read-only over NBD (EPERM) and listed by NBD_OPT_LIST; bad input changes
# nothing; deleting everything in turn frees every data object file and the space. On one node,
# then on three nodes with 2 copies (written through one node, read through the others).
source "$(dirname "$0")/lib.sh"

MiB=$((1 << 20))
SIZE=$((32 * MiB))
nbdpy() { /usr/bin/python3 - "$@"; } # Debian's libnbd bindings (a pyenv python3 may come first on PATH)

# put NODE VDI OFFSET FILE MODEL: FILE written at OFFSET through the CLI, and into the local model.
put() {
  kelpie vdi write -a "$(addr "$1")" "$2" "$3" <"$4" >/dev/null || fail "vdi write $2 at $3 failed"
  dd if="$4" of="$5" bs=64K seek="$3" oflag=seek_bytes conv=notrunc status=none
}

# same NODE EXPORT MODEL: the export read through NODE's NBD port has the model's checksum.
same() {
  local got want; got=$(sha_through "$1" "$2"); want=$(sha256sum <"$3" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "$2 read through $1 differs from its model $(basename "$3")"
}

# unchanged VIA CMD...: CMD fails with one line on stderr, a non-zero exit, and the catalogue as it was.
refused() {
  local via=$1; shift
  kelpie vdi list -a "$(addr "$via")" --json >"$WORK/before.json"
  if kelpie "$@" -a "$(addr "$via")" >"$WORK/out" 2>"$WORK/err"; then fail "'$*' succeeded"; fi
  [ "$(wc -l <"$WORK/err")" = 1 ] || fail "'$*' did not fail with one line: $(cat "$WORK/err")"
  kelpie vdi list -a "$(addr "$via")" --json >"$WORK/after.json"
  cmp -s "$WORK/before.json" "$WORK/after.json" || fail "'$*' failed but changed the catalogue"
  log "refused as it should: $* -> $(cat "$WORK/err")"
}

data_objects() { # NODE...: data object files (inode objects have the top bit, so start with 8..f)
  local n=0
  for node in "$@"; do n=$((n + $(find "${NODE_DIR[$node]}/objects" -regextype posix-extended -regex '.*/[0-7][0-9a-f]{15}' | wc -l))); done
  echo "$n"
}

used_bytes() { kelpie node info -a "$(addr "$1")" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["used"])'; }

sequence() { # W R1 R2 NODES...: writes through W, reads through R1 and R2
  local w=$1 r1=$2 r2=$3; shift 3
  local nodes=("$@") m=$WORK/model
  mkdir -p "$m"
  kelpie vdi create -a "$(addr "$w")" vm 32M >/dev/null
  head -c $SIZE /dev/zero >"$m/vm"
  head -c $((6 * MiB)) /dev/urandom >"$WORK/A"
  head -c $((3 * MiB)) /dev/urandom >"$WORK/B"
  head -c $((2 * MiB)) /dev/urandom >"$WORK/C"

  log "write A, snapshot s1"
  put "$w" vm $MiB "$WORK/A" "$m/vm"
  kelpie vdi snapshot -a "$(addr "$r1")" vm -s s1 >/dev/null || fail "snapshot s1 failed"
  cp "$m/vm" "$m/s1"
  same "$r1" vm@s1 "$m/s1"; same "$r2" vm@1 "$m/s1"; same "$r2" vm "$m/vm"

  log "write B over objects the snapshot shares (copy-on-write), snapshot s2"
  put "$w" vm $((5 * MiB)) "$WORK/B" "$m/vm"
  same "$r1" vm "$m/vm"; same "$r2" vm@s1 "$m/s1"
  kelpie vdi snapshot -a "$(addr "$w")" vm -s s2 >/dev/null || fail "snapshot s2 failed"
  cp "$m/vm" "$m/s2"
  same "$r1" vm@s2 "$m/s2"; same "$r2" vm@2 "$m/s2"

  log "clone c from s1, write C to c"
  kelpie vdi clone -a "$(addr "$r2")" vm c -s s1 >/dev/null || fail "clone failed"
  cp "$m/s1" "$m/c"
  same "$r1" c "$m/c"
  put "$w" c 0 "$WORK/C" "$m/c"
  same "$r2" c "$m/c"; same "$r1" vm@s1 "$m/s1"; same "$r1" vm "$m/vm"

  log "NBD: snapshots are read-only and listed"
  nbdinfo --list "nbd://127.0.0.1:${NODE_NBD[$r1]}" >"$WORK/list" || fail "nbdinfo --list failed"
  for e in vm vm@s1 vm@s2 c; do grep -q "export=\"$e\"\|^export=$e\$\|export: $e\$\|\"$e\"" "$WORK/list" || grep -qw "$e" "$WORK/list" || fail "NBD_OPT_LIST lacks $e: $(cat "$WORK/list")"; done
  nbdpy "$(nbd_uri "$r2" vm@s1)" <<'PY' || fail "vm@s1 is writable over NBD"
import errno, sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
assert h.is_read_only(), "export is not flagged read-only"
h.set_strict_mode(0)  # let the write reach the server instead of libnbd refusing it
try:
    h.pwrite(b"x" * 4096, 0)
    sys.exit("a write to the snapshot succeeded")
except nbd.Error as e:
    assert e.errno in (errno.EPERM, "EPERM"), f"write failed with {e.errno}, not EPERM"
PY
  same "$r1" vm@s1 "$m/s1"

  log "vdi list and vdi tree"
  kelpie vdi list -a "$(addr "$r1")" >"$WORK/vl"
  grep -Eq '^s +vm +1 .* s1$' "$WORK/vl" || fail "vdi list lacks snapshot s1: $(cat "$WORK/vl")"
  grep -Eq '^s +vm +2 .* s2$' "$WORK/vl" || fail "vdi list lacks snapshot s2: $(cat "$WORK/vl")"
  grep -Eq '^c +c ' "$WORK/vl" || fail "vdi list does not mark the clone: $(cat "$WORK/vl")"
  kelpie vdi tree -a "$(addr "$r2")" >"$WORK/tree"
  grep -q '^vm@s1' "$WORK/tree" && grep -q -- '-- c (you are here)' "$WORK/tree" && grep -q -- '-- vm@s2' "$WORK/tree" \
    || fail "vdi tree is wrong: $(cat "$WORK/tree")"
  cat "$WORK/tree" >&2

  log "bad input changes nothing"
  kelpie vdi snapshot -a "$(addr "$w")" c -s cs >/dev/null
  refused "$r1" vdi snapshot vm -s s1
  refused "$r1" vdi clone vm c -s s2
  refused "$r1" vdi clone vm vm -s s2
  refused "$r1" vdi clone vm d -s nosuch
  refused "$r1" vdi rollback vm -s nosuch
  refused "$r1" vdi rollback vm -s cs
  refused "$r1" vdi delete vm -s nosuch
  refused "$r1" vdi snapshot vm -s 7
  kelpie vdi snapshot --help | grep -q "crash\|acknowledged" || fail "snapshot --help does not explain"

  log "rollback is refused while a client has the VDI open, then goes back to s1"
  /usr/bin/python3 - "$(nbd_uri "$w" vm)" "$WORK/holding" <<'PY' & # not the nbdpy function: $! must be python itself
import sys, time, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
open(sys.argv[2], "w").close()
time.sleep(600)
PY
  local holder=$!
  on_exit "kill $holder"
  local deadline=$((SECONDS + 20))
  until [ -e "$WORK/holding" ]; do [ $SECONDS -lt $deadline ] || fail "the NBD client did not connect"; sleep 0.2; done
  refused "$r2" vdi rollback vm -s s1
  # A snapshot asked of another node goes on to the node the client is connected to.
  kelpie vdi snapshot -a "$(addr "$r1")" vm -s held >/dev/null || fail "snapshot while a client has vm open failed"
  cp "$m/vm" "$m/held"
  same "$r2" vm@held "$m/held"
  kill "$holder"; wait "$holder" 2>/dev/null || true
  deadline=$((SECONDS + 20))
  until kelpie vdi rollback -a "$(addr "$r2")" vm -s s1 >/dev/null 2>"$WORK/err"; do
    [ $SECONDS -lt $deadline ] || fail "rollback failed: $(cat "$WORK/err")"; sleep 0.5
  done
  cp "$m/s1" "$m/vm"
  same "$r1" vm "$m/vm"; same "$r2" vm@s2 "$m/s2"; same "$r1" c "$m/c"

  log "deletes: every object stays while something reads it, all gone at the end"
  local before; before=$(data_objects "${nodes[@]}")
  kelpie vdi delete -a "$(addr "$r1")" vm -s s1 >/dev/null
  same "$r2" vm "$m/vm"; same "$r2" c "$m/c"; same "$r1" vm@s2 "$m/s2"
  [ "$(data_objects "${nodes[@]}")" = "$before" ] || fail "deleting s1 freed objects that vm and c still read"
  kelpie vdi delete -a "$(addr "$w")" vm -s held >/dev/null # it reads s2's objects: nothing is freed yet
  same "$r1" vm@s2 "$m/s2"
  [ "$(data_objects "${nodes[@]}")" = "$before" ] || fail "deleting held freed objects that s2 still reads"
  kelpie vdi delete -a "$(addr "$r2")" vm -s s2 >/dev/null
  local after_s2; after_s2=$(data_objects "${nodes[@]}")
  [ "$after_s2" -lt "$before" ] || fail "deleting s2 freed none of its own objects ($before before, $after_s2 after)"
  same "$r1" vm "$m/vm"; same "$r2" c "$m/c"
  local used_mid; used_mid=$(used_bytes "$w")
  kelpie vdi delete -a "$(addr "$w")" vm >/dev/null
  same "$r1" c "$m/c"
  kelpie vdi delete -a "$(addr "$r1")" c -s cs >/dev/null
  same "$r2" c "$m/c"
  kelpie vdi delete -a "$(addr "$r2")" c >/dev/null
  [ "$(data_objects "${nodes[@]}")" = 0 ] || fail "data objects left after every VDI was deleted: $(data_objects "${nodes[@]}")"
  local used_end; used_end=$(used_bytes "$w")
  [ "$used_end" -lt $((used_mid - 8 * MiB)) ] || fail "node info used space did not come back ($used_mid -> $used_end)"
  [ -z "$(kelpie vdi list -a "$(addr "$r1")" --json | python3 -c 'import json,sys; print("".join(v["name"] for v in json.load(sys.stdin)))')" ] \
    || fail "VDIs left in the list"
  log "space: $used_mid -> $used_end bytes used"
}

log "one node"
start_node a1
kelpie cluster format -a "$(addr a1)" --copies 1 >/dev/null
sequence a1 a1 a1 a1
stop_node a1

log "three nodes, 2 copies"
start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1),$(addr n2)"
wait_members n1 3
wait_members n3 3
kelpie cluster format -a "$(addr n2)" --copies 2 >/dev/null
sequence n1 n2 n3 n1 n2 n3
log "PASS"
