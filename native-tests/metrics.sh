#!/usr/bin/env bash
# node run --metrics: scrape /metrics with curl while fio writes over NBD and after; the VDI's write
# counters grow by exactly the bytes and requests fio reports, reads likewise, and the JVM and
# direct-memory gauges are there; a joining node recovers and its recovery gauges return to 0 (its
# source counts the peer fetches). A deleted VDI's series go; a bad --metrics is refused.
source "$(dirname "$0")/lib.sh"
command -v fio >/dev/null && command -v curl >/dev/null || skip "needs fio and curl"
MPORT=$(free_port)
start_node n1 --metrics "127.0.0.1:$MPORT"
wait_port "$MPORT"
URL="http://127.0.0.1:$MPORT/metrics"
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create m1 256M -a "$(addr n1)" >/dev/null

# metric SERIES: the value of one series in the latest scrape (0 when absent)
scrape() { curl -sf "$URL" -o "$WORK/scrape.txt" || fail "GET /metrics failed"; }
metric() {
  python3 - "$WORK/scrape.txt" "$1" <<'PY'
import sys
want = sys.argv[2]
for line in open(sys.argv[1]):
    name, _, value = line.rstrip("\n").rpartition(" ")
    if name == want:
        print(int(float(value))); break
else:
    print(0)
PY
}
W='{command="write",vdi="m1"}'
R='{command="read",vdi="m1"}'
scrape
[ "$(metric "kelpie_nbd_requests_total$W")" = 0 ] || fail "m1 has write requests before any client"

cd "$WORK"  # fio leaves state files in the current directory
# 64 MiB of sequential 64 KiB writes, paced to last a few seconds so scrapes land while it runs
fio --name=w --ioengine=nbd --uri="$(nbd_uri n1 m1)" --rw=write --bs=64k --iodepth=8 --size=64M --rate=24m \
  --output-format=json --output="$WORK/w.json" &
FIO=$!
during=0
while kill -0 "$FIO" 2>/dev/null; do
  scrape
  b=$(metric "kelpie_nbd_bytes_total$W")
  if [ "$b" -gt 0 ] && [ "$b" -lt $((64 << 20)) ]; then during=$b; fi
  sleep 0.2
done
wait "$FIO" || fail "fio failed: $(tail -n 30 "$WORK/w.json")"
[ "$during" -gt 0 ] || fail "no scrape during fio saw its writes under way"
read -r WBYTES WIOS <<<"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]["write"]; print(j["io_bytes"], j["total_ios"])' "$WORK/w.json")"
[ "$WBYTES" = $((64 << 20)) ] || fail "fio wrote $WBYTES bytes, not 64 MiB"
scrape
[ "$(metric "kelpie_nbd_bytes_total$W")" = "$WBYTES" ] || fail "write bytes $(metric "kelpie_nbd_bytes_total$W") != fio's $WBYTES"
[ "$(metric "kelpie_nbd_requests_total$W")" = "$WIOS" ] || fail "write requests $(metric "kelpie_nbd_requests_total$W") != fio's $WIOS"
[ "$(metric "kelpie_nbd_errors_total$W")" = 0 ] || fail "write errors counted"
[ "$(metric "kelpie_nbd_request_seconds_count$W")" = "$WIOS" ] || fail "latency histogram count != $WIOS"
[ "$(metric 'kelpie_nbd_request_seconds_bucket{command="write",vdi="m1",le="+Inf"}')" = "$WIOS" ] || fail "+Inf bucket != $WIOS"
log "during fio: $during bytes; after: $WBYTES bytes in $WIOS writes, as fio reports"

fio --name=r --ioengine=nbd --uri="$(nbd_uri n1 m1)" --rw=randread --bs=16k --iodepth=4 --size=16M \
  --output-format=json --output="$WORK/r.json" || fail "fio read failed"
RBYTES=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jobs"][0]["read"]["io_bytes"])' "$WORK/r.json")
scrape
[ "$(metric "kelpie_nbd_bytes_total$R")" = "$RBYTES" ] || fail "read bytes $(metric "kelpie_nbd_bytes_total$R") != fio's $RBYTES"

# the node's gauges, the JVM's, direct memory (the JVM's pool and netty's arenas), peer/admin requests
for s in jvm_memory_used_bytes jvm_buffer_memory_used_bytes jvm_gc_pause_seconds jvm_threads_live_threads \
         process_cpu_usage kelpie_netty_pool_direct_bytes kelpie_recovery_objects_remaining \
         kelpie_recovery_bytes_remaining kelpie_store_bytes_used kelpie_store_bytes_free kelpie_nbd_connections; do
  grep -q "^$s" scrape.txt || fail "no $s in /metrics"
done
grep -q '^jvm_buffer_memory_used_bytes{id="direct"}' scrape.txt || fail "no direct buffer pool gauge"
[ "$(metric kelpie_netty_pool_direct_bytes)" -gt 0 ] || fail "netty's direct arenas read 0 after NBD traffic"
# the store's space is sampled at most every 5 s (a scan of the directory): a scrape soon after the
# writes may still show the sample taken while they were under way
deadline=$((SECONDS + 15))
until [ "$(metric kelpie_store_bytes_used)" -ge $((64 << 20)) ]; do
  [ $SECONDS -lt $deadline ] || fail "store used $(metric kelpie_store_bytes_used) < 64 MiB"
  sleep 0.5
  scrape
done
[ "$(metric 'kelpie_peer_requests_total{op="vdi_create"}')" -ge 1 ] || fail "the CLI's vdi create is not counted"

# the formats a scraper asks for, and nothing but /metrics
curl -sfi "$URL" | grep -qi '^content-type: text/plain; version=0.0.4' || fail "text format content type"
curl -sf -H 'Accept: application/openmetrics-text;version=1.0.0' "$URL" | tail -n 1 | grep -qx '# EOF' \
  || fail "OpenMetrics asked for, not given"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")" = 404 ] || fail "/ is not 404"

# a second node joins: it recovers its share of m1 from n1 (n1 serves it as peer object ops), and
# its recovery gauges come back to 0 with the objects in its store
M2=$(free_port)
start_node n2 --join "$(addr n1)" --metrics "127.0.0.1:$M2"
wait_port "$M2"
wait_members n1 2
wait_recovered n1
URL1=$URL; URL="http://127.0.0.1:$M2/metrics"
deadline=$((SECONDS + 30))
until scrape && [ "$(metric kelpie_recovery_running)" = 0 ] && [ "$(metric kelpie_store_bytes_used)" -gt 0 ]; do
  [ $SECONDS -lt $deadline ] || fail "n2: recovery running $(metric kelpie_recovery_running), store $(metric kelpie_store_bytes_used) bytes"
  sleep 0.5
done
[ "$(metric kelpie_recovery_objects_remaining)" = 0 ] && [ "$(metric kelpie_recovery_bytes_remaining)" = 0 ] \
  || fail "n2 done recovering with objects left: $(grep '^kelpie_recovery' scrape.txt)"
URL=$URL1
scrape
[ "$(metric 'kelpie_peer_requests_total{op="fetch_obj"}')" -gt 0 ] || fail "n1 served no fetch_obj: $(grep '^kelpie_peer' scrape.txt)"
[ "$(metric 'kelpie_peer_requests_total{op="list_versions"}')" -gt 0 ] || fail "n1 served no list_versions"
log "n2 recovered from n1: n1 served $(metric 'kelpie_peer_requests_total{op="fetch_obj"}') fetch_obj"

# a deleted VDI's series go (fio has disconnected; its handle is released in the background)
deadline=$((SECONDS + 20))
until kelpie vdi delete m1 -a "$(addr n1)" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || fail "cannot delete m1"
  sleep 0.2
done
scrape
grep -q 'vdi="m1"' scrape.txt && fail "m1's series are still there after its delete"

# a bad address is refused before the node starts
out=$(kelpie node run --dir "$WORK/bad" --port "$(free_port)" --metrics 127.0.0.1 2>&1) && fail "--metrics 127.0.0.1 accepted"
grep -q -- "--metrics takes HOST:PORT" <<<"$out" || fail "unclear error: $out"
log "PASS"
