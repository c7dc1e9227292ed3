#!/usr/bin/env bash
# 'kelpie cluster shutdown' stops every node (each exits 0); restarted one by one, the first
# nodes wait (I/O refused, 'cluster info' says for whom) until all are back, then the data reads
# back identical through every node. Then a node is lost for good: after the next shutdown only
# two come back, wait for the third, and 'kelpie cluster recover force' lets them go on.
source "$(dirname "$0")/lib.sh"

info() { kelpie cluster info -a "$(addr "$1")" --json; }
field() { /usr/bin/python3 -I -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
serving() { [ "$(info "$1" | field serving)" = True ]; }
await() { # SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting until $what"
    sleep 0.5
  done
}
all_serving() { for n in "$@"; do serving "$n" || return 1; done; }
sum_through() { rm -f "$WORK/out.img"; nbdcopy "$(nbd_uri "$1" disk)" "$WORK/out.img" && sha256sum <"$WORK/out.img" | cut -d' ' -f1; }
shutdown_all() { # NODE...: cluster shutdown through the first; every process exits 0
  kelpie cluster shutdown -a "$(addr "$1")" >/dev/null || fail "cluster shutdown failed"
  for n in "$@"; do
    local rc=0
    wait "${NODE_PID[$n]}" || rc=$?
    [ $rc = 0 ] || fail "node $n exited with $rc after the cluster shutdown"
  done
  log "every node exited 0"
}
restart() { start_node "$1" --join "$(addr n1),$(addr n2),$(addr n3)"; }

start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1)"
kelpie cluster format -a "$(addr n1)" --copies 2 >/dev/null
await 30 "all serve" all_serving n1 n2 n3
kelpie vdi create -a "$(addr n1)" disk 32M >/dev/null
head -c $((32 << 20)) /dev/urandom >"$WORK/data.img"
nbdcopy "$WORK/data.img" "$(nbd_uri n2 disk)" || fail "writing failed"
want=$(sha256sum <"$WORK/data.img" | cut -d' ' -f1)
epoch=$(info n1 | field epoch)

shutdown_all n1 n2 n3
restart n2
status=$(info n2 | field status)
log "n2 alone: $status"
case $status in "waiting for node(s) $(addr n1), $(addr n3) of epoch $epoch"*) ;; *) fail "n2 does not wait for n1 and n3: $status" ;; esac
if nbdcopy "$(nbd_uri n2 disk)" "$WORK/out.img" 2>"$WORK/refused.txt"; then fail "n2 served I/O while waiting"; fi
log "I/O refused while waiting: $(head -c 200 "$WORK/refused.txt" | tr '\n' ' ')"
restart n3
status=$(info n3 | field status)
case $status in waiting*"$(addr n1)"*) ;; *) fail "n3 does not wait for n1: $status" ;; esac
restart n1
await 60 "all serve after the restart" all_serving n1 n2 n3
for n in n1 n2 n3; do
  [ "$(sum_through $n)" = "$want" ] || fail "data read through $n differs after the restart"
  log "read through $n after the restart: checksum equal"
done

shutdown_all n1 n2 n3
log "n3 never comes back: only n1 and n2 restart"
restart n1
restart n2
waits_for_n3_alone() { case $(info n1 | field status) in "waiting for node(s) $(addr n3) of"*) ;; *) return 1 ;; esac; }
await 30 "n1 waits for n3 alone (n2 is back)" waits_for_n3_alone
log "n1: $(info n1 | field status)"
kelpie cluster recover force -a "$(addr n2)" | grep -q "without $(addr n3)" || fail "recover force did not say what it did"
await 30 "n1 and n2 serve" all_serving n1 n2
for n in n1 n2; do
  [ "$(sum_through $n)" = "$want" ] || fail "data read through $n differs after recover force"
  log "read through $n after recover force: checksum equal"
done
log "ok"
