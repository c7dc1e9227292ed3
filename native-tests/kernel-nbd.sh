#!/usr/bin/env bash
# The real Linux kernel NBD client: a Debian kernel (linux-image-amd64, nbd built as a module)
# boots under qemu with a throw-away busybox initramfs made here (nbd.ko, nbd-client, e2fsprogs,
# /init = kernel-nbd.init). Boot 1 attaches a VDI as /dev/nbd0 (one connection, nbd-client's
# ioctl mode), mkfs.ext4 with its whole-device discard (TRIM), writes files, deletes one and runs
# fstrim, syncs (FLUSH), detaches. The host then checks the bytes through Kelpie (vdi read +
# debugfs) and that the discards freed objects. Boot 2 attaches over netlink with two connections
# (-C 2, two CPUs) through nbd/kelpie-nbd as kelpie-attach@.service runs it (attach, mapped,
# detach by name), e2fsck -fn is clean, checksums match, writes one more file, which the host
# checks again. Either boot fails on any nbd/ext4/I/O error the kernel logs.
# Every installed kernel with an nbd module is tested, oldest first, each on its own VDI (CI
# installs Debian 12's 6.1, which has no WRITE_ZEROES, and 6.12, which sends it).
# SKIPs (exit 77) only when no kernel with an nbd module or no qemu-system-x86_64 is installed.
# Runs under TCG (software emulation); KELPIE_QEMU_ACCEL=kvm tries KVM first (nested KVM on the
# build machines hung at boot, so it is not the default).
source "$(dirname "$0")/lib.sh"

QEMU=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
# The kernels: KELPIE_KERNEL=/path/boot/vmlinuz-VER (e.g. from 'dpkg-deb -x linux-image-*.deb DIR',
# modules then in DIR/lib/modules/VER), else every /boot/vmlinuz-* that has an nbd module.
KERNELS=()   # "VMLINUZ MODROOT"
if [ -n "${KELPIE_KERNEL:-}" ]; then
  v=${KELPIE_KERNEL##*/vmlinuz-}; root=$(cd "$(dirname "$KELPIE_KERNEL")/.." && pwd)
  [ -f "$root/lib/modules/$v/modules.dep" ] || depmod -b "$root" "$v" || fail "depmod for $v"
  modprobe -d "$root" -S "$v" --show-depends nbd >/dev/null || fail "KELPIE_KERNEL=$KELPIE_KERNEL: no nbd module"
  KERNELS=("$KELPIE_KERNEL $root")
else
  for k in $(ls /boot/vmlinuz-* 2>/dev/null | sort -V); do
    [ -r "$k" ] && modprobe -S "${k##*/vmlinuz-}" --show-depends nbd >/dev/null 2>&1 && KERNELS+=("$k /")
  done
fi
[ ${#KERNELS[@]} -gt 0 ] || skip "no kernel image with an nbd module in /boot (apt-get install linux-image-amd64)"
BUSYBOX=$(command -v busybox) || fail "busybox not installed (apt-get install busybox-static)"
ldd "$BUSYBOX" >/dev/null 2>&1 && fail "$BUSYBOX is not static (apt-get install busybox-static)"
for t in nbd-client mke2fs e2fsck debugfs cpio; do
  command -v "$t" >/dev/null || fail "$t not installed"
done
log "$("$QEMU" --version | head -1); kernels: ${KERNELS[*]%% *}"

SIZE=$((128 << 20))
start_node n1
A=(-a "$(addr n1)")
kelpie cluster format "${A[@]}" >/dev/null
used() { kelpie vdi list --json "$VDI" "${A[@]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["used"])'; }

# make_initramfs: the VDI and the initramfs for kernel $KVER (modules under $MODROOT)
make_initramfs() {
  kelpie vdi create "$VDI" "$SIZE" "${A[@]}" >/dev/null
  # Fill the whole VDI with random bytes first: every object is then allocated, so the space used
  # after mkfs (which discards the device) and fstrim shows whether the kernel's TRIMs reached us.
  head -c "$SIZE" /dev/urandom | kelpie vdi write "$VDI" "${A[@]}"
  [ "$(used)" -eq "$SIZE" ] || fail "prefill: used $(used), expected $SIZE"

  # --- the initramfs
  R=$WORK/root-$KN; WORKK=$WORK/$KN; mkdir -p "$WORKK"
  mkdir -p "$R"/{bin,dev,proc,sys,tmp,etc,modules,data,lib64}
  cp "$BUSYBOX" "$R/bin/busybox"
  cp "$(dirname "$0")/kernel-nbd.init" "$R/init"; chmod +x "$R/init"
  [ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$R/etc/"
  # modules in load order, decompressed so busybox insmod can load them whatever the packaging
  : >"$R/modules/order"
  for m in nbd e1000 ext4; do
    modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" | while read -r kind path _; do
      [ "$kind" = insmod ] || continue   # "builtin NAME": nothing to load
      name=$(basename "$path"); name=${name%%.ko*}.ko
      grep -qx "$name" "$R/modules/order" && continue
      case "$path" in
        *.ko.xz) xz -dc "$path" ;; *.ko.zst) zstd -dc "$path" ;; *.ko.gz) gzip -dc "$path" ;; *) cat "$path" ;;
      esac >"$R/modules/$name" || fail "cannot unpack $path"
      echo "$name" >>"$R/modules/order"
    done
  done
  log "$KVER modules: $(tr '\n' ' ' <"$R/modules/order")"
  # dynamic binaries in /kbin, their libraries at the same paths as here, and the loader
  mkdir -p "$R/kbin"
  cp "$ROOT/nbd/kelpie-nbd" "$R/kbin/kelpie-nbd"; chmod +x "$R/kbin/kelpie-nbd"
  for b in nbd-client mke2fs e2fsck; do
    p=$(command -v "$b"); cp -L "$p" "$R/kbin/$b"
    ldd "$p" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
      mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
    done
  done
  head -c $((6 << 20)) /dev/urandom >"$R/data/known.bin"
  KNOWN=$(sha256sum <"$R/data/known.bin" | cut -d' ' -f1)
  (cd "$R" && find . | cpio -o -H newc --quiet) >"$WORKK/initrd.cpio"
  log "initramfs $(du -h "$WORKK/initrd.cpio" | cut -f1)"
}

TAP_PID=
on_exit 'kill $TAP_PID'   # a tap left running by a failed boot
# boot PHASE CONNECTIONS CPUS NETLINK: runs the VM to its poweroff; the console goes to
# console-PHASE.log. NETLINK=0: nbd-client configures the device through the older ioctls.
# The guest reaches the node through nbd-tap.py, which logs the options and commands it sends.
boot() {
  local phase=$1 conns=$2 cpus=$3 netlink=$4 con=$WORKK/console-$1.log tap=$WORKK/tap-$1.log accel start=$SECONDS
  local tport; tport=$(free_port)
  python3 "$(dirname "$0")/nbd-tap.py" "$tport" "${NODE_NBD[n1]}" "$tap" &
  TAP_PID=$!
  wait_port "$tport"
  case "${KELPIE_QEMU_ACCEL:-tcg}" in kvm) accel=(-accel kvm -accel tcg) ;; *) accel=(-accel tcg) ;; esac
  timeout 240 "$QEMU" -nodefaults -display none -no-reboot -M pc "${accel[@]}" -m 512 -smp "$cpus" \
    -kernel "$VMLINUZ" -initrd "$WORKK/initrd.cpio" -serial "file:$con" -nic user,model=e1000 \
    -append "console=ttyS0 quiet panic=-1 kelpie.phase=$phase kelpie.port=$tport kelpie.name=$VDI kelpie.size=$SIZE kelpie.conns=$conns kelpie.netlink=$netlink" \
    >"$WORKK/qemu-$phase.log" 2>&1 </dev/null || {
      rc=$?; [ $rc -eq 124 ] && log "boot $phase timed out" || log "qemu exited $rc: $(cat "$WORKK/qemu-$phase.log")"; }
  tr -d '\r' <"$con" >"$con.txt"
  if ! grep -q "^KELPIE-PASS phase$phase" "$con.txt"; then
    echo "--- console of boot $phase of $KVER (last 60 lines)" >&2; tail -n 60 "$con.txt" >&2
    fail "$KVER boot $phase: $(grep -m1 '^KELPIE-FAIL' "$con.txt" || echo 'no PASS marker')"
  fi
  for _ in $(seq 50); do [ "$(grep -c ' closed: ' "$tap" 2>/dev/null)" -ge "$conns" ] && break; sleep 0.1; done
  kill "$TAP_PID"; wait "$TAP_PID" 2>/dev/null || true; TAP_PID=
  log "$KVER boot $phase passed in $((SECONDS - start))s ($(grep -m1 '^KELPIE-QUEUE' "$con.txt" | cut -d' ' -f2-))"
  sed "s/^/[$SCENARIO] $KVER boot $phase: /" "$tap" >&2
}
# sent PHASE COMMAND: how many connections of that boot sent COMMAND (e.g. "TRIM", "WRITE+FUA")
sent() { grep ' closed: ' "$WORKK/tap-$1.log" | grep -c " $2="; }
guest_sum() { sed -n "s|^KELPIE-SUM \([0-9a-f]*\)  \./$2\$|\1|p" "$WORKK/console-$1.log.txt"; }
# image: the VDI read through Kelpie; host_sum PATH: sha256 of a file in it, read by debugfs
image() { kelpie vdi read "$VDI" "${A[@]}" >"$WORK/img"; }
host_sum() { debugfs -R "cat /$1" "$WORK/img" 2>/dev/null | sha256sum | cut -d' ' -f1; }

# test_kernel: both boots of kernel $KVER against its own VDI, and every host-side check
test_kernel() {
  boot 1 1 1 0
  grep -aq 'Discarding device blocks:.*done' "$WORKK/console-1.log.txt" || fail "mke2fs did not discard /dev/nbd0 (no TRIM?)"
  [ "$(sent 1 TRIM)" -ge 1 ] || fail "the kernel sent no NBD_CMD_TRIM"
  [ "$(sent 1 FLUSH)" -ge 1 ] || fail "the kernel sent no NBD_CMD_FLUSH"
  if grep -Eq 'write_zeroes_max_bytes=[1-9]' "$WORKK/console-1.log.txt"; then  # kernels from 6.12 on
    [ "$(sent 1 WRITE_ZEROES)" -ge 1 ] || [ "$(sent 1 WRITE_ZEROES+NO_HOLE)" -ge 1 ] \
      || fail "the kernel supports WRITE_ZEROES but mkfs sent none"
  fi
  grep -q 'write back' "$WORKK/console-1.log.txt" || fail "kernel sees no volatile write cache (FLUSH not advertised?)"
  grep -Eq 'discard_max_bytes=[1-9]' "$WORKK/console-1.log.txt" || fail "kernel sees no discard support"
  [ "$(guest_sum 1 known.bin)" = "$KNOWN" ] || fail "known.bin in the guest has sum '$(guest_sum 1 known.bin)', expected $KNOWN"
  image
  e2fsck -f -n "$WORK/img" >"$WORK/fsck.out" 2>&1 || fail "host e2fsck of the VDI: $(cat "$WORK/fsck.out")"
  [ "$(host_sum known.bin)" = "$KNOWN" ] || fail "known.bin read through Kelpie differs from the file the guest copied"
  [ "$(host_sum guest.bin)" = "$(guest_sum 1 guest.bin)" ] || fail "guest.bin read through Kelpie differs from the guest's checksum"
  [ "$(debugfs -R 'cat /dir/f137' "$WORK/img" 2>/dev/null)" = "file 137" ] || fail "dir/f137 read through Kelpie"
  [ "$(grep -c '^KELPIE-SUM' "$WORKK/console-1.log.txt")" -eq 202 ] || fail "expected 202 files in the guest's list"
  u=$(used)
  log "$KVER: space used after boot 1: $((u >> 20)) MiB of $((SIZE >> 20)) MiB prefilled"
  [ "$u" -le $((SIZE / 2)) ] || fail "discards freed too little: $u bytes still used"

  boot 2 2 2 1
  [ "$(grep -c ' closed: ' "$WORKK/tap-2.log")" -eq 2 ] || fail "$KVER boot 2: expected 2 connections"
  [ "$(grep ' closed: ' "$WORKK/tap-2.log" | grep -c ' READ=')" -eq 2 ] || fail "$KVER boot 2: not every connection carried reads"
  diff <(grep '^KELPIE-SUM' "$WORKK/console-1.log.txt") <(grep '^KELPIE-SUM' "$WORKK/console-2.log.txt") \
    || fail "checksums differ between the two boots"
  image
  e2fsck -f -n "$WORK/img" >"$WORK/fsck.out" 2>&1 || fail "host e2fsck after boot 2: $(cat "$WORK/fsck.out")"
  [ "$(host_sum known2.bin)" = "$KNOWN" ] || fail "known2.bin (written over two connections) read through Kelpie differs"
  log "$KVER: PASS"
}

for i in "${!KERNELS[@]}"; do
  VMLINUZ=${KERNELS[$i]%% *}; MODROOT=${KERNELS[$i]#* }; KVER=${VMLINUZ##*/vmlinuz-}
  KN=k$i; VDI=fs$i
  make_initramfs
  test_kernel
  rm -rf "$WORK/root-$KN" "$WORK/img"
done
log "PASS (${#KERNELS[@]} kernels)"
