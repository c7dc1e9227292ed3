#!/usr/bin/env bash
# NBD listing: nbdinfo --list / --json and nbd-client -l show every VDI with its size and flags.
source "$(dirname "$0")/lib.sh"
start_node n1
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create alpha 64M -a "$(addr n1)" >/dev/null
kelpie vdi create beta 1G -a "$(addr n1)" >/dev/null
port=${NODE_NBD[n1]}

out=$(nbdinfo --list "nbd://127.0.0.1:$port")
log "nbdinfo --list: $(echo "$out" | grep -c export=) exports"
echo "$out" | grep -q 'export="alpha"' || fail "nbdinfo --list lacks alpha: $out"
echo "$out" | grep -q 'export="beta"' || fail "nbdinfo --list lacks beta: $out"
echo "$out" | grep -q 'description: Kelpie VDI, 64 MiB' || fail "no description for alpha: $out"

nbdinfo --json --list "nbd://127.0.0.1:$port" >"$WORK/list.json"
python3 - "$WORK/list.json" <<'PY' || fail "nbdinfo --json does not show the expected exports"
import json, sys
d = json.load(open(sys.argv[1]))
ex = {e["export-name"]: e for e in d["exports"]}
assert set(ex) == {"alpha", "beta"}, ex.keys()
assert ex["alpha"]["export-size"] == 64 << 20 and ex["beta"]["export-size"] == 1 << 30
for e in ex.values():
    assert e["is_read_only"] is False
    for cap in ("can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero", "can_df", "can_cache", "can_multi_conn"):
        assert e[cap] is True, cap
    assert "base:allocation" in e["contexts"]
    assert e["block_size_minimum"] == 1 and e["block_size_preferred"] == 4096 and e["block_size_maximum"] == 32 << 20
assert d["structured"] is True
PY

[ "$(nbdinfo --size "$(nbd_uri n1 alpha)")" = 67108864 ] || fail "nbdinfo --size alpha"
nbdinfo --can multi-conn "$(nbd_uri n1 beta)" || fail "beta should allow multi-conn"
if nbdinfo "$(nbd_uri n1 nosuch)" >/dev/null 2>&1; then fail "an unknown export was accepted"; fi

out=$(nbd-client -l 127.0.0.1 "$port" 2>&1) || fail "nbd-client -l failed: $out"
echo "$out" | grep -q '^alpha' || fail "nbd-client -l lacks alpha: $out"
echo "$out" | grep -q '^beta' || fail "nbd-client -l lacks beta: $out"
log "PASS"
