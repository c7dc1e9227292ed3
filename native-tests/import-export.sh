#!/usr/bin/env bash
# vdi import / export with real images: a qcow2 made by qemu-img and qemu-io is imported into a
# new VDI (--create) and exported to raw, compared byte for byte with qemu-img's own conversion;
# only the objects with data exist, the export is sparse, stdout and a snapshot export match, a
# qcow2 export compares equal, an import over old data leaves none of it; a progress bar appears
# on a terminal (script) and not when stderr is a file or with --quiet; without qemu-img a qcow2
# is refused with a message naming it.
source "$(dirname "$0")/lib.sh"
MiB=$((1 << 20))
start_node n1
A=(-a "$(addr n1)")
kelpie cluster format "${A[@]}" --copies 1 >/dev/null

# 100 MiB, data in objects 0 (0..1M), 2 (9M..11M), 12 (50M, 64K) and 24 (the last 4K), the rest holes
qemu-img create -q -f qcow2 "$WORK/src.qcow2" 100M
qemu-io -f qcow2 -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 9M 2M' -c 'write -P 0x3c 50M 64k' \
  -c "write -P 0x77 $((100 * MiB - 4096)) 4k" "$WORK/src.qcow2" >/dev/null
qemu-img convert -f qcow2 -O raw "$WORK/src.qcow2" "$WORK/want.raw"

kelpie vdi import vm "$WORK/src.qcow2" --create "${A[@]}" >"$WORK/out" 2>"$WORK/err" \
  || fail "import: $(cat "$WORK/err")"
[ ! -s "$WORK/err" ] || fail "import drew on stderr, which is a file: $(cat "$WORK/err")"
grep -q "qcow2" "$WORK/out" || fail "import summary: $(cat "$WORK/out")"
size=$(kelpie vdi list "${A[@]}" --json | python3 -c 'import json,sys; print([v["size"] for v in json.load(sys.stdin) if v["name"]=="vm"][0])')
[ "$size" = $((100 * MiB)) ] || fail "--create made a VDI of $size bytes, not the image's 100 MiB"
objs=$(kelpie vdi object vm "${A[@]}" --json | python3 -c 'import json,sys; print(sorted(o["index"] for o in json.load(sys.stdin)))')
[ "$objs" = "[0, 2, 12, 24]" ] || fail "allocated objects after import: $objs, expected [0, 2, 12, 24]"

kelpie vdi export vm "$WORK/got.raw" "${A[@]}" >/dev/null 2>"$WORK/err" || fail "export: $(cat "$WORK/err")"
cmp "$WORK/want.raw" "$WORK/got.raw" || fail "export differs from qemu-img convert -O raw of the qcow2"
[ "$(stat -c %s "$WORK/got.raw")" = $((100 * MiB)) ] || fail "export is $(stat -c %s "$WORK/got.raw") bytes"
used=$(( $(stat -c %b "$WORK/got.raw") * $(stat -c %B "$WORK/got.raw") ))
[ "$used" -lt $((8 * MiB)) ] || fail "export is not sparse: $used bytes on disk for 3.1 MiB of data"
log "qcow2 -> import -> export: equal to qemu-img's raw, $used bytes on disk of $((100 * MiB))"

kelpie vdi export vm - "${A[@]}" 2>"$WORK/err" | cmp - "$WORK/want.raw" || fail "export to stdout differs: $(cat "$WORK/err")"
kelpie vdi snapshot vm -s s1 "${A[@]}" >/dev/null
head -c $MiB /dev/urandom | kelpie vdi write vm 20M "${A[@]}"
kelpie vdi export vm@s1 "$WORK/snap.raw" "${A[@]}" >/dev/null || fail "export of a snapshot"
cmp "$WORK/want.raw" "$WORK/snap.raw" || fail "snapshot export differs"
kelpie vdi export vm@s1 "$WORK/back.qcow2" --format qcow2 "${A[@]}" >/dev/null || fail "export --format qcow2"
qemu-img compare -q -f qcow2 -F qcow2 "$WORK/src.qcow2" "$WORK/back.qcow2" || fail "qcow2 export differs from the source"
log "stdout, snapshot and qcow2 exports equal"

# into an existing VDI full of other bytes: none of them may survive where the image has zeros
kelpie vdi create old 100M "${A[@]}" >/dev/null
python3 -c 'import sys; sys.stdout.buffer.write(b"\xee" * (60 << 20))' | kelpie vdi write old 0 "${A[@]}"
kelpie vdi import old "$WORK/want.raw" "${A[@]}" >/dev/null || fail "import over old data"
kelpie vdi export old "$WORK/old.raw" "${A[@]}" >/dev/null
cmp "$WORK/want.raw" "$WORK/old.raw" || fail "import over old data left some of it"

kelpie vdi create small 10M "${A[@]}" >/dev/null
if kelpie vdi import small "$WORK/src.qcow2" "${A[@]}" >/dev/null 2>"$WORK/err"; then fail "import into a smaller VDI succeeded"; fi
[ "$(wc -l <"$WORK/err")" = 1 ] && grep -q "resize" "$WORK/err" || fail "smaller VDI: $(cat "$WORK/err")"
if kelpie vdi import none "$WORK/src.qcow2" "${A[@]}" >/dev/null 2>"$WORK/err"; then fail "import into a missing VDI"; fi
mkdir "$WORK/bin" && ln -s "$(command -v java)" "$WORK/bin/java"
if PATH=$WORK/bin kelpie vdi import noqemu "$WORK/src.qcow2" --create "${A[@]}" >/dev/null 2>"$WORK/err"; then
  fail "a qcow2 imported without qemu-img"
fi
grep -q "qemu-img" "$WORK/err" || fail "no qemu-img: $(cat "$WORK/err")"
kelpie vdi list "${A[@]}" | grep -q noqemu && fail "a refused import created its VDI"
log "refusals: smaller VDI, missing VDI, qcow2 without qemu-img"

# progress: on a terminal (script gives the command a pseudo-TTY), not with --quiet
JAVA="java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar $JAR"
script -qec "$JAVA vdi import tty1 $WORK/src.qcow2 --create ${A[*]}" /dev/null >"$WORK/tty.out" </dev/null \
  || fail "import on a terminal: $(cat "$WORK/tty.out")"
grep -q 'import 100%' "$WORK/tty.out" && grep -q 'MiB/s' "$WORK/tty.out" || fail "no progress bar on a terminal: $(cat -v "$WORK/tty.out")"
script -qec "$JAVA vdi export tty1 $WORK/tty.raw ${A[*]}" /dev/null >"$WORK/tty.out" </dev/null
grep -q 'export 100%' "$WORK/tty.out" || fail "no export progress bar on a terminal: $(cat -v "$WORK/tty.out")"
cmp "$WORK/want.raw" "$WORK/tty.raw" || fail "export on a terminal differs"
script -qec "$JAVA vdi export tty1 $WORK/tty.raw --quiet ${A[*]}" /dev/null >"$WORK/tty.out" </dev/null
grep -q '%' "$WORK/tty.out" && fail "--quiet drew a progress bar: $(cat -v "$WORK/tty.out")"
log "progress bar on a terminal, none with --quiet or when stderr is a file"
log "PASS"
