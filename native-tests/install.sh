#!/usr/bin/env bash
# make install / uninstall as a packager (DESTDIR) and as an operator (PREFIX) would run them:
# every file lands where the README says, the installed launcher runs the installed jar, the
# installed unit passes 'systemd-analyze verify', and uninstall leaves no file behind.
source "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (apt-get install systemd)"
mk() { make -s -C "$ROOT" JAR="$JAR" "$@" >>"$WORK/make.log" 2>&1 || fail "make $*: $(tail -n 5 "$WORK/make.log")"; }

want="usr/bin/kelpie
usr/bin/kelpie-nbd
usr/lib/kelpie/kelpie.jar
usr/lib/systemd/system/kelpie-attach@.service
usr/lib/systemd/system/kelpie-nbd.socket
usr/lib/systemd/system/kelpie.service
usr/share/doc/kelpie/README.md
usr/share/doc/kelpie/help.txt
usr/share/doc/kelpie/kelpie.env.example
usr/share/doc/kelpie/nbdtab.example"
mk install DESTDIR="$WORK/dst" PREFIX=/usr
got=$(cd "$WORK/dst" && find . -type f | sed 's|^\./||' | sort)
[ "$got" = "$want" ] || fail "DESTDIR install holds: $got"
cmp "$JAR" "$WORK/dst/usr/lib/kelpie/kelpie.jar" || fail "the installed jar is not the built one"
grep -q '^ExecStart=/usr/bin/kelpie node run' "$WORK/dst/usr/lib/systemd/system/kelpie.service" \
  || fail "the unit does not start /usr/bin/kelpie: $(grep ExecStart "$WORK/dst/usr/lib/systemd/system/kelpie.service")"
grep -q -- '--cluster-secret' "$WORK/dst/usr/share/doc/kelpie/help.txt" || fail "help.txt lacks node run's options"
mk uninstall DESTDIR="$WORK/dst" PREFIX=/usr
left=$(find "$WORK/dst" -type f)
[ -z "$left" ] || fail "uninstall left: $left"
log "DESTDIR install and uninstall: every file, then none"

P=$WORK/prefix
mk install PREFIX="$P"
ver=$(KELPIE_JAVA_OPTS=-Xmx64m "$P/bin/kelpie" --version | head -1)
case "$ver" in "kelpie "*) ;; *) fail "the installed launcher said: $ver" ;; esac
"$P/bin/kelpie-nbd" --help | grep -q attach || fail "the installed kelpie-nbd has no help"
U=$P/lib/systemd/system
grep -q "^ExecStop=$P/bin/kelpie-nbd detach %I" "$U/kelpie-attach@.service" || fail "kelpie-attach@ does not detach with the installed kelpie-nbd"
# the template through an instance: a snapshot's export name, escaped as systemctl users would
instance=$(systemd-escape --template=kelpie-attach@.service 'vm-disk@nightly')
for unit in kelpie.service kelpie-nbd.socket "$instance"; do
  out=$(systemd-analyze verify "$U/$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
  [ -z "$out" ] || fail "systemd-analyze verify $unit warned: $out"
done
mk uninstall PREFIX="$P"
left=$(find "$P" -type f)
[ -z "$left" ] || fail "uninstall left: $left"
log "installed launcher runs ($ver), the units verify ($instance too), uninstall leaves no file"
log "PASS"
