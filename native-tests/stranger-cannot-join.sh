#!/usr/bin/env bash
# An authenticated cluster: three nodes share a --cluster-secret; a fourth node without it, or
# with another one, cannot join (membership stays 3, both logs say why); the CLI without the
# secret is refused with the line that names the option, with it (option or KELPIE_SECRET_FILE)
# it works; data goes between the nodes as usual; and the membership (JGroups) traffic captured
# on loopback does not contain the name of a VDI that was created, while the peer traffic
# captured beside it does (so the capture itself is shown to work). Bad secret files are refused.
source "$(dirname "$0")/lib.sh"

secret() { head -c 32 /dev/urandom | base64 >"$1"; chmod 600 "$1"; }
secret "$WORK/secret"
secret "$WORK/other"

# node_fails LOG ARGS...: a node run that must exit non-zero (within 60 s) with its reason in LOG.
node_fails() {
  local out=$1; shift
  if timeout 60 java -jar "$JAR" node run "$@" >"$out" 2>&1; then
    fail "node run $* started and exited 0; expected a refusal"
  fi
}

log "bad secret files are refused before any port opens"
printf '\n' >"$WORK/empty"; chmod 600 "$WORK/empty"
cp "$WORK/secret" "$WORK/open"; chmod 644 "$WORK/open"
node_fails "$WORK/bad.out" --dir "$WORK/bad" --port "$(free_port)" --nbd-port 0 --cluster-secret "$WORK/empty"
grep -q "is empty" "$WORK/bad.out" || fail "an empty secret file: $(cat "$WORK/bad.out")"
node_fails "$WORK/bad.out" --dir "$WORK/bad" --port "$(free_port)" --nbd-port 0 --cluster-secret "$WORK/open"
grep -q "accessible by every user" "$WORK/bad.out" || fail "a world-readable secret file: $(cat "$WORK/bad.out")"
node_fails "$WORK/bad.out" --dir "$WORK/bad" --port "$(free_port)" --nbd-port 0 --cluster-secret "$WORK/missing"
grep -q "does not exist" "$WORK/bad.out" || fail "a missing secret file: $(cat "$WORK/bad.out")"

# Nodes and the CLI below take the secret from the environment; strangers are started without it.
export KELPIE_SECRET_FILE=$WORK/secret
start_node n1
start_node n2 --join "$(addr n1)"
start_node n3 --join "$(addr n1)"
wait_members n1 3
kelpie cluster format -a "$(addr n1)" --copies 3 >/dev/null
grep -q "cluster secret [0-9a-f]\{8\}" "$WORK/n1.log" || fail "n1 does not log the fingerprint of its secret"

log "capture loopback while a VDI is created: its name must not cross the membership ports"
VDI=confidential-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
CLUSTER_PORTS=() PEER_PORTS=()
for n in n1 n2 n3; do
  p=${NODE_PORT[$n]}
  PEER_PORTS+=("$p"); CLUSTER_PORTS+=("$((p + 1))")
  for i in 0 1 2 3 4; do CLUSTER_PORTS+=("$((p + 1 - 5000 + i))"); done # FD_SOCK2's range
done
python3 - "$WORK/cap" "${CLUSTER_PORTS[*]}" "${PEER_PORTS[*]}" <<'PY' &
# A raw AF_PACKET socket on lo (no tcpdump needed): TCP payloads by port, until the stop file appears.
import os, socket, struct, sys
base, cluster, peer = sys.argv[1], set(map(int, sys.argv[2].split())), set(map(int, sys.argv[3].split()))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind(("lo", 0)); s.settimeout(0.2)
out = {"cluster": open(base + ".cluster", "wb"), "peer": open(base + ".peer", "wb")}
open(base + ".ready", "w").close()
while not os.path.exists(base + ".stop"):
    try:
        frame = s.recv(65535)
    except socket.timeout:
        continue
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        continue  # IPv4 TCP only
    ip = 14; ihl = (frame[ip] & 0x0F) * 4; tcp = ip + ihl
    sport, dport = struct.unpack("!HH", frame[tcp:tcp + 4]); doff = (frame[tcp + 12] >> 4) * 4
    payload = frame[tcp + doff:ip + struct.unpack("!H", frame[ip + 2:ip + 4])[0]]
    for kind, ports in (("cluster", cluster), ("peer", peer)):
        if payload and (sport in ports or dport in ports):
            out[kind].write(payload)
for f in out.values():
    f.close()
PY
CAPTURE=$!
on_exit "touch $WORK/cap.stop; wait $CAPTURE"
deadline=$((SECONDS + 10))
until [ -e "$WORK/cap.ready" ]; do [ $SECONDS -lt $deadline ] || fail "the capture did not start"; sleep 0.1; done
kelpie vdi create -a "$(addr n1)" "$VDI" 8M >/dev/null
kelpie vdi list -a "$(addr n2)" | grep -q "$VDI" || fail "n2 does not list $VDI"
head -c $((8 << 20)) /dev/urandom >"$WORK/data"
nbdcopy "$WORK/data" "$(nbd_uri n1 "$VDI")" || fail "writing through n1 failed"
touch "$WORK/cap.stop"; wait "$CAPTURE" || fail "the capture failed"
[ "$(stat -c %s "$WORK/cap.cluster")" -gt 0 ] || fail "nothing captured on the membership ports"
grep -qa "$VDI" "$WORK/cap.peer" || fail "the capture missed the VDI name on the peer port (capture broken?)"
if grep -qa "$VDI" "$WORK/cap.cluster"; then fail "the VDI name crossed the membership ports in plaintext"; fi
log "membership traffic: $(stat -c %s "$WORK/cap.cluster") bytes captured, no VDI name in them"

log "the data path between nodes works with the secret"
[ "$(sha_through n3 "$VDI")" = "$(sha256sum <"$WORK/data" | cut -d' ' -f1)" ] || fail "data read through n3 differs"

log "a stranger without the secret cannot join"
STRANGER_PORT=$(free_port)
KELPIE_SECRET_FILE='' node_fails "$WORK/none.log" --dir "$WORK/none" --port "$STRANGER_PORT" --nbd-port 0 --join "$(addr n1)"
grep -q "cannot join: the cluster refused us" "$WORK/none.log" || fail "the stranger does not say why: $(tail -n 5 "$WORK/none.log")"
grep -q "refused: it did not prove the cluster secret" "$WORK/n1.log" || fail "n1 does not log the refusal"

log "a stranger with another secret cannot join"
node_fails "$WORK/other.log" --dir "$WORK/other-node" --port "$(free_port)" --nbd-port 0 --join "$(addr n1)" \
  --cluster-secret "$WORK/other"
grep -q "cannot join: the cluster refused our secret" "$WORK/other.log" \
  || fail "the stranger with another secret does not say why: $(tail -n 5 "$WORK/other.log")"
grep -q "refused: cluster secret does not match" "$WORK/n1.log" || fail "n1 does not log the wrong secret"
[ "$(members_of n1)" = 3 ] || fail "membership changed: $(members_of n1) members"
[ "$(members_of n3)" = 3 ] || fail "membership changed on n3: $(members_of n3) members"

log "the CLI needs the secret"
if env -u KELPIE_SECRET_FILE java -jar "$JAR" vdi list -a "$(addr n2)" >"$WORK/cli.out" 2>&1; then
  fail "vdi list without the secret succeeded"
fi
grep -q "node refused: this command needs the cluster secret: --cluster-secret FILE or KELPIE_SECRET_FILE" "$WORK/cli.out" \
  || fail "the CLI without the secret printed: $(cat "$WORK/cli.out")"
if env -u KELPIE_SECRET_FILE java -jar "$JAR" vdi list -a "$(addr n2)" --cluster-secret "$WORK/other" >"$WORK/cli.out" 2>&1; then
  fail "vdi list with another secret succeeded"
fi
grep -q "cluster secret does not match" "$WORK/cli.out" || fail "the CLI with another secret printed: $(cat "$WORK/cli.out")"
env -u KELPIE_SECRET_FILE java -jar "$JAR" vdi list -a "$(addr n2)" --cluster-secret "$WORK/secret" | grep -q "$VDI" \
  || fail "vdi list with --cluster-secret does not list $VDI"
kelpie vdi read -a "$(addr n3)" "$VDI" 0 1M | cmp -s - <(head -c $((1 << 20)) "$WORK/data") \
  || fail "vdi read with KELPIE_SECRET_FILE returned other bytes"
log "ok"
