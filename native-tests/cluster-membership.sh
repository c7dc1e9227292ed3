#!/usr/bin/env bash
# Membership changes between node processes: a node killed with SIGKILL leaves the cluster (a new
# epoch everywhere), data stays readable through the survivors, data written while it is away
# reads back through it once it returns, and a node added later serves everything too.
source "$(dirname "$0")/lib.sh"

members() { kelpie node list -a "$(addr "$1")" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
epoch() { kelpie cluster info -a "$(addr "$1")" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])'; }

wait_epoch() { # NODE EPOCH
  local deadline=$((SECONDS + 60))
  until [ "$(epoch "$1" 2>/dev/null)" = "$2" ]; do
    [ $SECONDS -lt $deadline ] || fail "node $1 is at epoch $(epoch "$1"), expected $2"
    sleep 0.5
  done
}

fill() { # NODE FILE: random data into VDI disk through NODE's NBD port
  head -c $((48 << 20)) /dev/urandom >"$2"
  nbdcopy "$2" "$(nbd_uri "$1" disk)" || fail "writing through $1 failed"
}

check() { # FILE NODE...: the VDI reads back as FILE through every NODE
  local want; want=$(sha256sum <"$1" | cut -d' ' -f1)
  shift
  for n in "$@"; do
    rm -f "$WORK/out.img"
    nbdcopy "$(nbd_uri "$n" disk)" "$WORK/out.img" || fail "reading through $n failed"
    [ "$(sha256sum <"$WORK/out.img" | cut -d' ' -f1)" = "$want" ] || fail "data read through $n differs"
    log "read through $n: checksum equal"
  done
}

start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1)"
wait_epoch n1 0
kelpie cluster format -a "$(addr n1)" --copies 2 >/dev/null
wait_epoch n3 1
[ "$(members n2)" = 3 ] || fail "expected 3 members"
kelpie vdi create -a "$(addr n1)" disk 48M >/dev/null
fill n1 "$WORK/a.img"
check "$WORK/a.img" n2 n3

log "SIGKILL n3"
kill_node n3
wait_epoch n1 2
wait_epoch n2 2
[ "$(members n1)" = 2 ] || fail "n3 is still listed after its crash"
check "$WORK/a.img" n1 n2

log "write while n3 is away, then restart it"
fill n2 "$WORK/b.img"
start_node n3 --join "$(addr n1)"
wait_epoch n1 3
check "$WORK/b.img" n3 n1

log "add n4"
start_node n4 --join "$(addr n2)"
wait_epoch n1 4
check "$WORK/b.img" n4 n2
kelpie cluster info -a "$(addr n4)" --json | python3 -c '
import json, sys
info = json.load(sys.stdin)
epochs = [e["epoch"] for e in info["history"]]
assert epochs == [1, 2, 3, 4], epochs
assert len(info["history"][1]["nodes"]) == 2 and len(info["history"][3]["nodes"]) == 4, info["history"]
' || fail "cluster info history is wrong"
log "PASS"
