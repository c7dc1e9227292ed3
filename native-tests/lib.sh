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
# A scenario this machine cannot run says why and exits 77 (automake's "skipped"): run-all counts
# it apart from passes, and fails it under CI (CI=true), where everything must be installed.
skip() { echo "[$SCENARIO] SKIP: $*" >&2; exit 77; }

# A CLI call is a short-lived JVM: C1 only and the serial collector start it about a third faster.
kelpie() { java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$JAR" "$@"; }

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
# NODE_JAVA_OPTS, when set for the call, are JVM options of that node (test-only properties).
start_node() {
  local name=$1; shift
  [ -n "${NODE_PORT[$name]:-}" ] || { NODE_PORT[$name]=$(free_port); NODE_NBD[$name]=$(free_port); }
  NODE_DIR[$name]=${NODE_DIR[$name]:-$WORK/$name}
  # shellcheck disable=SC2086 # NODE_JAVA_OPTS is a list of JVM options
  java ${NODE_JAVA_OPTS:-} -jar "$JAR" node run --dir "${NODE_DIR[$name]}" --port "${NODE_PORT[$name]}" \
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

# small_disk NAME [SIZE]: NAME's data dir ($WORK/NAME) on an ext4 of SIZE (default 64M) on a loop
# device, unmounted on exit after the node has let go of its files. Needs root.
small_disk() {
  local name=$1 size=${2:-64M}
  truncate -s "$size" "$WORK/$name.img"
  mkfs.ext4 -q -m 0 -F "$WORK/$name.img"
  mkdir -p "$WORK/$name"
  mount -o loop "$WORK/$name.img" "$WORK/$name" || fail "cannot loop-mount a $size ext4"
  on_exit "umount $WORK/$name || umount -l $WORK/$name"
  on_exit "kill_node $name" # cleanups run last first: the node lets go of its files before the unmount
}

addr() { echo "127.0.0.1:${NODE_PORT[$1]}"; }

epoch_of() { kelpie cluster info -a "$(addr "$1")" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["epoch"])'; }
members_of() { kelpie node list -a "$(addr "$1")" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

wait_members() { # NODE COUNT [SECONDS]: NODE lists COUNT members
  local deadline=$((SECONDS + ${3:-60}))
  until [ "$(members_of "$1" 2>/dev/null)" = "$2" ]; do
    [ $SECONDS -lt $deadline ] || fail "node $1 lists $(members_of "$1" 2>/dev/null) members, expected $2"
    sleep 0.5
  done
}

wait_epoch_above() { # NODE EPOCH [SECONDS]: NODE's epoch is above EPOCH
  local deadline=$((SECONDS + ${3:-60})) e
  while :; do
    e=$(epoch_of "$1" 2>/dev/null || echo 0)
    [ "$e" -gt "$2" ] && return 0
    [ $SECONDS -lt $deadline ] || fail "node $1 is still at epoch $e, expected above $2"
    sleep 0.5
  done
}

# wait_recovered NODE [SECONDS]: every member has finished recovering the current epoch.
wait_recovered() {
  timeout "${2:-180}" java -jar "$JAR" node recovery -a "$(addr "$1")" --watch >"$WORK/recovery.out" 2>&1 \
    || fail "recovery did not finish: $(tail -n 20 "$WORK/recovery.out")"
}

# sha_through NODE VDI: sha256 of the whole VDI read through NODE's NBD export.
sha_through() {
  rm -f "$WORK/sha.img"
  nbdcopy "$(nbd_uri "$1" "$2")" "$WORK/sha.img" || fail "reading $2 through $1 failed"
  sha256sum <"$WORK/sha.img" | cut -d' ' -f1
  rm -f "$WORK/sha.img"
}

# copies_check COPIES NODE...: every object file is held by exactly COPIES of the given (live) nodes.
copies_check() {
  local copies=$1; shift
  local dirs=()
  for n in "$@"; do dirs+=("${NODE_DIR[$n]}/objects"); done
  python3 - "$copies" "${dirs[@]}" <<'PY' || fail "objects are not on exactly $copies live nodes"
import os, re, sys, collections
want, dirs = int(sys.argv[1]), sys.argv[2:]
count = collections.Counter()
for d in dirs:
    for f in os.listdir(d):
        if re.fullmatch(r"[0-9a-f]{16}", f):
            count[f] += 1
bad = {o: c for o, c in count.items() if c != want}
if not count or bad:
    print(f"{len(count)} objects, wrong copy counts: {dict(list(bad.items())[:10])}", file=sys.stderr)
    sys.exit(1)
print(f"{len(count)} objects, each on {want} nodes", file=sys.stderr)
PY
}

# fio_ok OUTPUT JOBS: fio finished without errors and verify found nothing wrong.
fio_ok() {
  grep -Eq 'verify: bad|verify failed|error=' "$1" && fail "fio reported errors: $(grep -E 'bad|failed|error=' "$1" | head)"
  [ "$(grep -c 'err= 0' "$1")" = "$2" ] || fail "fio jobs reported errors: $(tail -n 40 "$1")"
}
nbd_uri() { echo "nbd://127.0.0.1:${NODE_NBD[$1]}/$2"; }

on_exit() { CLEANUPS+=("$*"); }

cleanup() {
  local rc=$?
  for ((i=${#CLEANUPS[@]}-1; i>=0; i--)); do eval "${CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
  for pid in "${NODE_PID[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f (last 40 lines)"; tail -n 40 "$f"; } >&2; done
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
