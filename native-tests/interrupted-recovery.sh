#!/usr/bin/env bash
# Recovery that is interrupted: 3 nodes, copies 2, 192 MiB of data. A fourth node joins with a low
# --recovery-rate, so that its recovery is still running when it is killed (SIGKILL); it comes back
# and finishes. Then a node is killed during the recovery that its loss starts. At the end every
# object is on exactly 2 live nodes and the VDI reads back identical through every node.
source "$(dirname "$0")/lib.sh"

start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1)"
wait_members n1 3
kelpie cluster format -a "$(addr n1)" --copies 2 >/dev/null
kelpie vdi create -a "$(addr n1)" disk 192M >/dev/null
head -c $((192 << 20)) /dev/urandom >"$WORK/a.img"
nbdcopy "$WORK/a.img" "$(nbd_uri n1 disk)" || fail "writing through n1 failed"
want=$(sha256sum <"$WORK/a.img" | cut -d' ' -f1)

# running_objects NODE: objects NODE itself has recovered so far in a running pass, or -1.
recovered_so_far() {
  kelpie node recovery -a "$(addr "$1")" --json 2>/dev/null | python3 -c '
import json, sys
me = sys.argv[1]
for n in json.load(sys.stdin)["nodes"]:
    if n["address"] == me:
        print(n["objects_done"] if n["state"] == "running" else -1)
        break
else:
    print(-1)' "$(addr "$1")"
}

e=$(epoch_of n1)
start_node n4 --join "$(addr n1)" --recovery-rate 4M  # ~25 s for its share: long enough to be seen running under load
wait_epoch_above n1 "$e"
deadline=$((SECONDS + 60))
until [ "$(recovered_so_far n4)" -gt 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "n4 never showed a running recovery"
  sleep 0.2
done
log "n4 is recovering; SIGKILL it"
kill_node n4
wait_members n1 3
start_node n4 --join "$(addr n1)"
wait_members n1 4
wait_recovered n1
copies_check 2 n1 n2 n3 n4
for n in n1 n4; do
  [ "$(sha_through "$n" disk)" = "$want" ] || fail "disk reads back differently through $n"
done

log "SIGKILL n2; kill n3 while the survivors recover (copies 2: objects only n2 and n3 shared are lost for good, so restart n3)"
kill_node n2
wait_members n1 3
kill_node n3
wait_members n1 2
start_node n3 --join "$(addr n1)"
wait_members n1 3
wait_recovered n1
copies_check 2 n1 n3 n4
for n in n1 n3 n4; do
  [ "$(sha_through "$n" disk)" = "$want" ] || fail "disk reads back differently through $n"
done
log "PASS"
