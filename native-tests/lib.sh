# Shared helpers for native scenarios; each scenario sources this file.
# A scenario runs real clients against real node processes on 127.0.0.1 and exits non-zero on
# the first failed check. Every node it starts is killed and every mount undone on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
JAR=${KELPIE_JAR:-$ROOT/target/kelpie.jar}
SCENARIO=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/kelpie-$SCENARIO.XXXXXX")
declare -A NODE_PID NODE_PORT NODE_NBD NODE_DIR
CLEANUPS=()

log() { echo "[$SCENARIO] $*" >&2; }
fail() { echo "[$SCENARIO] FAIL: $*" >&2; exit 1; }

kelpie() { java -jar "$JAR" "$@"; }

# A free TCP port on 127.0.0.1 whose successor is free too (nodes use PORT+1 for membership).
free_port() {
  python3 - <<'PY'
import socket, random
for _ in range(200):
    p = random.randint(20000, 60000)
    ok = True
    for q in (p, p + 1):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", q))
        except OSError:
            ok = False
        finally:
            s.close()
    if ok:
        print(p); break
PY
}

wait_port() { # PORT [SECONDS]
  local port=$1 deadline=$((SECONDS + ${2:-30}))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "nothing listens on port $port"
    sleep 0.2
  done
}

# start_node NAME [extra node-run args...]: starts (or restarts) a node with its own data dir.
start_node() {
  local name=$1; shift
  [ -n "${NODE_PORT[$name]:-}" ] || { NODE_PORT[$name]=$(free_port); NODE_NBD[$name]=$(free_port); }
  NODE_DIR[$name]=${NODE_DIR[$name]:-$WORK/$name}
  java -jar "$JAR" node run --dir "${NODE_DIR[$name]}" --port "${NODE_PORT[$name]}" \
    --nbd-port "${NODE_NBD[$name]}" "$@" >>"$WORK/$name.log" 2>&1 &
  NODE_PID[$name]=$!
  wait_port "${NODE_PORT[$name]}"
  wait_port "${NODE_NBD[$name]}"
}

stop_node() { # graceful: SIGTERM and wait
  local pid=${NODE_PID[$1]}
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

kill_node() { # crash: SIGKILL
  local pid=${NODE_PID[$1]}
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

addr() { echo "127.0.0.1:${NODE_PORT[$1]}"; }
nbd_uri() { echo "nbd://127.0.0.1:${NODE_NBD[$1]}/$2"; }

on_exit() { CLEANUPS+=("$*"); }

cleanup() {
  local rc=$?
  for ((i=${#CLEANUPS[@]}-1; i>=0; i--)); do eval "${CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
  for pid in "${NODE_PID[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f (last 40 lines)"; tail -n 40 "$f"; } >&2; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
