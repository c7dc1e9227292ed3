#!/usr/bin/env bash
# fio's nbd engine: 4 jobs (one connection each), iodepth 32, random writes verified with crc32c.
source "$(dirname "$0")/lib.sh"
start_node n1
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create fio 128M -a "$(addr n1)" >/dev/null
cd "$WORK"  # fio leaves verify state files in the current directory
fio --name=randw --ioengine=nbd --uri="$(nbd_uri n1 fio)" --rw=randwrite --bsrange=4k-128k --iodepth=32 \
  --numjobs=4 --size=32M --offset_increment=32M --verify=crc32c --verify_fatal=1 --do_verify=1 \
  --output="$WORK/fio.out" || fail "fio failed: $(tail -n 30 "$WORK/fio.out")"
grep -Eq 'verify: bad|verify failed' "$WORK/fio.out" && fail "verify errors: $(grep -E 'bad|failed' "$WORK/fio.out" | head)"
[ "$(grep -c 'err= 0' "$WORK/fio.out")" = 4 ] || fail "fio jobs reported errors: $(cat "$WORK/fio.out")"
# Large requests (64 MiB, over the advertised 32 MiB) are served too.
fio --name=big --ioengine=nbd --uri="$(nbd_uri n1 fio)" --rw=write --bs=64M --iodepth=2 --size=128M \
  --verify=crc32c --output="$WORK/big.out" || fail "64 MiB requests: $(tail -n 20 "$WORK/big.out")"
grep -q 'err= 0' "$WORK/big.out" || fail "64 MiB requests: $(cat "$WORK/big.out")"
log "PASS"
