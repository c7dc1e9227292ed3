#!/usr/bin/env bash
# What the systemd units rely on, without systemd as PID 1 (none here): a listener stands in for
# systemd's notify socket and a socket holder for kelpie-nbd.socket.
# - Type=notify: READY=1 arrives only once the node serves NBD (a client that connects the moment
#   it arrives is served at once), with a STATUS line; STOPPING=1 on SIGTERM, then a clean exit.
# - Socket activation, with systemd's own systemd-socket-activate: the node serves NBD on the
#   socket it was passed and does not bind --nbd-port; bytes written and read back compared.
# - Across a restart (kill -9, then the holder starts the node again on the same socket, as
#   Restart= would): a client that connects while no node runs waits and is served.
# - A passed socket that is not TCP is refused with a clear line.
source "$(dirname "$0")/lib.sh"
command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate not installed (apt-get install systemd)"

# --- Type=notify
NOTIFY=$WORK/notify.sock
python3 - "$NOTIFY" >"$WORK/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().strip().replace("\n", "|"), flush=True)
PY
LISTENER=$!
on_exit "kill $LISTENER"
for _ in $(seq 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done
P=$(free_port) NBD=$(free_port)
NOTIFY_SOCKET=$NOTIFY java -jar "$JAR" node run --dir "$WORK/n1" --port "$P" --nbd-port "$NBD" >"$WORK/n1.log" 2>&1 &
NODE_PID[n1]=$!
deadline=$((SECONDS + 60))
until grep -q '^READY=1' "$WORK/notify.log"; do
  [ $SECONDS -lt $deadline ] || fail "no READY=1 from the node within 60 s"
  kill -0 "${NODE_PID[n1]}" 2>/dev/null || fail "the node exited before READY=1"
  sleep 0.1
done
# no wait_port: READY=1 means the NBD port answers already
nbdinfo --list "nbd://127.0.0.1:$NBD" >/dev/null || fail "READY=1 came before the NBD server served"
ready=$(grep -m1 '^READY=1' "$WORK/notify.log")
case "$ready" in *"STATUS=serving NBD on port $NBD"*"MAINPID=${NODE_PID[n1]}"*) ;; *) fail "READY line: $ready" ;; esac
log "READY=1 once NBD serves: $ready"
kill -TERM "${NODE_PID[n1]}"
wait "${NODE_PID[n1]}" && rc=0 || rc=$?
# a JVM ends a SIGTERM by exiting 143; the unit lists it in SuccessExitStatus=
[ $rc -eq 143 ] || [ $rc -eq 0 ] || fail "the node exited $rc on SIGTERM"
grep -q '^STOPPING=1' "$WORK/notify.log" || fail "no STOPPING=1 on SIGTERM: $(cat "$WORK/notify.log")"
log "STOPPING=1 on SIGTERM, exit $rc"

# --- socket activation with systemd-socket-activate
SP=$(free_port) P=$(free_port) UNUSED=$(free_port)
systemd-socket-activate -l "127.0.0.1:$SP" --fdname=nbd \
  java -jar "$JAR" node run --dir "$WORK/n2" --port "$P" --nbd-port "$UNUSED" --format-if-new >"$WORK/n2.log" 2>&1 &
NODE_PID[n2]=$!
wait_port "$SP"
# the first connection starts the node (systemd-socket-activate waits for one); it waits in the backlog
nbdinfo --list "nbd://127.0.0.1:$SP" >/dev/null || fail "the first client of the passed socket was not served"
wait_port "$P"
grep -q "NBD server listening on 127.0.0.1:$SP from systemd" "$WORK/n2.log" || fail "the node did not say it serves the passed socket"
(exec 3<>"/dev/tcp/127.0.0.1/$UNUSED") 2>/dev/null && fail "the node bound --nbd-port $UNUSED although it had a socket"
kelpie vdi create disk 16M -a "127.0.0.1:$P" >/dev/null
head -c $((16 << 20)) /dev/urandom >"$WORK/data"
nbdcopy "$WORK/data" "nbd://127.0.0.1:$SP/disk"
nbdcopy "nbd://127.0.0.1:$SP/disk" - | cmp - "$WORK/data" || fail "bytes read through the passed socket differ"
log "socket activation: served on the passed socket only, 16 MiB compared"
kill -TERM "${NODE_PID[n2]}"; wait "${NODE_PID[n2]}" 2>/dev/null || true

# --- the socket outlives the node: a client connecting while it restarts is served
SP=$(free_port)
python3 "$(dirname "$0")/sd-holder.py" "$SP" "$WORK/holder.pid" \
  java -jar "$JAR" node run --dir "$WORK/n2" --port "$P" --nbd-port "$UNUSED" >"$WORK/n3.log" 2>&1 &
HOLDER=$!
on_exit "kill $HOLDER; kill -9 \$(cat $WORK/holder.pid)"
wait_port "$P"
first=$(cat "$WORK/holder.pid")
nbdcopy "nbd://127.0.0.1:$SP/disk" - | cmp - "$WORK/data" || fail "bytes differ before the restart"
kill -9 "$first"
# connect at once: no node runs, systemd (the holder) still listens, and restarts the node
nbdcopy "nbd://127.0.0.1:$SP/disk" - | cmp - "$WORK/data" || fail "a client connecting during the restart was not served the same bytes"
[ "$(cat "$WORK/holder.pid")" != "$first" ] || fail "the node was not restarted"
log "a client that connected while the node was down was served by the restarted node"
kill "$HOLDER"; kill -TERM "$(cat "$WORK/holder.pid")"

# --- a Unix socket passed as the NBD socket is refused clearly
systemd-socket-activate -l "$WORK/nbd.sock" --fdname=nbd \
  java -jar "$JAR" node run --dir "$WORK/n4" --port "$(free_port)" >"$WORK/n4.log" 2>&1 &
pid=$!
NODE_PID[n4]=$pid
for _ in $(seq 50); do [ -S "$WORK/nbd.sock" ] && break; sleep 0.1; done
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$WORK/nbd.sock"
deadline=$((SECONDS + 60))
while kill -0 "$pid" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "the node runs on with a Unix socket it cannot serve NBD on"
  sleep 0.1
done
grep -q "is unix, not a listening TCP socket" "$WORK/n4.log" || fail "no clear refusal of a Unix socket: $(tail -3 "$WORK/n4.log")"
log "a Unix socket is refused: $(grep -m1 -o "the socket systemd passed.*" "$WORK/n4.log")"
log "PASS"
