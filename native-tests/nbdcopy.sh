#!/usr/bin/env bash
# nbdcopy (4 connections, multi-conn) copies random data into a VDI, between VDIs and out again.
source "$(dirname "$0")/lib.sh"
start_node n1
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create a 96M -a "$(addr n1)" >/dev/null
kelpie vdi create b 96M -a "$(addr n1)" >/dev/null
head -c 96M /dev/urandom >"$WORK/in.bin"
want=$(sha256sum <"$WORK/in.bin" | cut -d' ' -f1)
nbdcopy "$WORK/in.bin" "$(nbd_uri n1 a)" || fail "nbdcopy in"
nbdcopy "$(nbd_uri n1 a)" "$WORK/out.bin" || fail "nbdcopy out"
[ "$(sha256sum <"$WORK/out.bin" | cut -d' ' -f1)" = "$want" ] || fail "data read back differs"
nbdcopy "$(nbd_uri n1 a)" "$(nbd_uri n1 b)" || fail "nbdcopy VDI to VDI"
[ "$(nbdcopy "$(nbd_uri n1 b)" - | sha256sum | cut -d' ' -f1)" = "$want" ] || fail "VDI copy differs"
# A sparse source: holes stay holes (nbdcopy zeroes them fast), data stays data.
truncate -s 96M "$WORK/sparse.bin"
head -c 1M /dev/urandom | dd of="$WORK/sparse.bin" bs=1M seek=50 conv=notrunc status=none
nbdcopy "$WORK/sparse.bin" "$(nbd_uri n1 b)" || fail "nbdcopy sparse"
cmp "$WORK/sparse.bin" <(nbdcopy "$(nbd_uri n1 b)" -) || fail "sparse copy differs"
log "PASS"
