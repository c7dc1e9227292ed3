#!/usr/bin/env bash
# The admin CLI as a user drives it against one real node: format, create, list --json,
# write/read/cmp, resize (grow; shrink refused), bad input refused with non-zero exit, delete.
source "$(dirname "$0")/lib.sh"

# this scenario needs no NBD server: the node runs with --nbd-port 0 and only the admin port is awaited
NODE_PORT[n1]=$(free_port); NODE_DIR[n1]=$WORK/n1
java -jar "$JAR" node run --dir "${NODE_DIR[n1]}" --port "${NODE_PORT[n1]}" --nbd-port 0 >>"$WORK/n1.log" 2>&1 &
NODE_PID[n1]=$!
wait_port "${NODE_PORT[n1]}"
A=(-a "$(addr n1)")

expect_fail() { # EXPECTED-STDERR-SUBSTRING COMMAND...: must fail with one "kelpie:" line naming the problem
  local want=$1; shift
  local err rc=0
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ $rc -ne 0 ] || fail "'$*' succeeded but should have failed"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "'$*' printed more than one line: $err"
  case "$err" in "kelpie: "*"$want"*) ;; *) fail "'$*' said '$err', expected '$want'" ;; esac
  log "refused as expected (exit $rc): $err"
}

log "--version names the version and the commit"
ver=$(kelpie --version | head -1)
case "$ver" in "kelpie "[0-9]*" (commit "*) ;; *) fail "kelpie --version said '$ver'" ;; esac
if [ "$JAR" = "$ROOT/target/kelpie.jar" ] && head=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null); then
  case "$ver" in *"commit $head"*) ;; *) fail "kelpie --version said '$ver', the work tree is at $head" ;; esac
fi

log "the completion script completes commands"
kelpie completion >"$WORK/kelpie.bash"
got=$(bash -c 'source "$1"; COMP_WORDS=(kelpie vdi cr); COMP_CWORD=2; COMP_LINE="kelpie vdi cr"; COMP_POINT=13
  _complete_kelpie; echo "${COMPREPLY[*]}"' _ "$WORK/kelpie.bash")
[ "$got" = create ] || fail "completion of 'kelpie vdi cr' gave '$got'"

log "before format every VDI command is refused"
expect_fail "not formatted" kelpie vdi list "${A[@]}"
kelpie cluster info "${A[@]}" | grep -q "waiting for format" || fail "cluster info before format"

log "format"
kelpie cluster format "${A[@]}"
kelpie cluster info "${A[@]}" | grep -q "^Epoch: 1" || fail "cluster info after format"
expect_fail "already formatted" kelpie cluster format "${A[@]}"

log "create and list"
kelpie vdi create disk1 64M "${A[@]}"
kelpie vdi create disk2 1G --copies 1 "${A[@]}"
json=$(kelpie vdi list --json "${A[@]}")
python3 - "$json" <<'PY' || fail "vdi list --json: $json"
import json, sys
vdis = {v["name"]: v for v in json.loads(sys.argv[1])}
assert vdis["disk1"]["size"] == 64 << 20, vdis
assert vdis["disk2"]["size"] == 1 << 30, vdis
assert vdis["disk1"]["copies"] == 1
PY
kelpie node list "${A[@]}" | grep -q "$(addr n1)" || fail "node list"
kelpie node info --json "${A[@]}" | python3 -c 'import json,sys; assert json.load(sys.stdin)["objects"] >= 2'

log "write from stdin, read back, compare"
head -c $((10 * 1024 * 1024 + 12345)) /dev/urandom > "$WORK/f"
kelpie vdi write disk1 "${A[@]}" < "$WORK/f"
kelpie vdi read disk1 0 "$(stat -c%s "$WORK/f")" "${A[@]}" | cmp - "$WORK/f" || fail "read-back differs"
log "write at an offset through a pipe, with a length"
kelpie vdi write disk1 20M 1M "${A[@]}" < <(cat "$WORK/f")  # a pipe, not a file; kelpie stops after 1M
kelpie vdi read disk1 20M 1M "${A[@]}" | cmp - <(head -c 1M "$WORK/f") || fail "offset write differs"
kelpie vdi read disk1 40M 4K "${A[@]}" | cmp - <(head -c 4096 /dev/zero) || fail "unwritten bytes are not zeros"
kelpie vdi object disk1 -i 0 "${A[@]}" | grep -q "$(addr n1)" || fail "vdi object"

log "resize: grow works, shrink is refused, data stays"
kelpie vdi resize disk1 128M "${A[@]}"
kelpie vdi list --json "${A[@]}" | grep -q '"name":"disk1"[^}]*"size":134217728' || fail "size after resize"
expect_fail "cannot shrink" kelpie vdi resize disk1 32M "${A[@]}"
kelpie vdi read disk1 0 "$(stat -c%s "$WORK/f")" "${A[@]}" | cmp - "$WORK/f" || fail "data changed by resize"

log "bad input is refused and changes nothing"
expect_fail "no VDI named 'nosuch'" kelpie vdi read nosuch "${A[@]}"
expect_fail "no VDI named 'nosuch'" kelpie vdi delete nosuch "${A[@]}"
expect_fail "already exists" kelpie vdi create disk1 1M "${A[@]}"
expect_fail "longer than 256 bytes" kelpie vdi create "$(printf 'n%.0s' $(seq 300))" 1M "${A[@]}"
expect_fail "greater than 0" kelpie vdi create zero 0 "${A[@]}"
expect_fail "exceeds the maximum" kelpie vdi create huge 5T "${A[@]}"
expect_fail "invalid size" kelpie vdi create bad 12Q "${A[@]}"
expect_fail "beyond the end" kelpie vdi read disk1 200M "${A[@]}"
head -c 2M /dev/urandom > "$WORK/big"
expect_fail "longer than" kelpie vdi write disk1 127M "${A[@]}" < "$WORK/big"
kelpie vdi read disk1 127M 1M "${A[@]}" | cmp - <(head -c 1M /dev/zero) || fail "refused write changed data"
expect_fail "Connection refused" kelpie vdi list -a 127.0.0.1:1
[ "$(kelpie vdi list --json "${A[@]}" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] \
  || fail "refused creates left VDIs behind"

log "delete"
kelpie vdi delete disk2 "${A[@]}"
expect_fail "no VDI named 'disk2'" kelpie vdi list disk2 "${A[@]}"
kelpie vdi list "${A[@]}" | grep -q disk1 || fail "disk1 vanished"
log "PASS"
