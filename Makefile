# Kelpie: 'make' builds target/kelpie.jar, 'make run' starts a one-node cluster, 'make test' runs every test,
# 'make bench' compares NBD performance with nbdkit and nbd-server.
MVN ?= mvn -B -q
JAR := target/kelpie.jar
DATA ?= data
PORT ?= 7000
NBD_PORT ?= 10809

.PHONY: all jar run deps test unit-test native-test bench clean install uninstall

all: jar

jar: $(JAR)

$(JAR): pom.xml $(shell find src/main -type f 2>/dev/null)
	$(MVN) -DskipTests package

run: $(JAR)
	java -jar $(JAR) node run --dir "$(DATA)" --bind 127.0.0.1 --port $(PORT) --nbd-port $(NBD_PORT) --format-if-new

unit-test:
	mvn -B -ntp verify

# the Debian packages the native scenarios use (apt-get as root; else names what is missing)
deps:
	./native-tests/install-deps

native-test: deps $(JAR)
	./native-tests/run-all

test: deps unit-test native-test

# NBD performance against nbdkit and nbd-server (../shared/bench/peers.sh): a one-node and a
# three-node (copies 3) Kelpie on loopback; prints IOPS ratios, p50/p99 latency and peak RSS.
BENCH_SECS ?= 6
bench: $(JAR)
	./native-tests/bench-nbd $(BENCH_SECS)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the jar, a 'kelpie' launcher, nbd/kelpie-nbd, the
# systemd units (pointing at this PREFIX), an example /etc/default/kelpie and the --help texts.
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib/kelpie
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR = $(PREFIX)/share/doc/kelpie
UNITS = kelpie.service kelpie-nbd.socket kelpie-attach@.service
INSTALLED = $(BINDIR)/kelpie $(BINDIR)/kelpie-nbd $(LIBDIR)/kelpie.jar $(addprefix $(UNITDIR)/,$(UNITS)) \
	$(DOCDIR)/kelpie.env.example $(DOCDIR)/nbdtab.example $(DOCDIR)/README.md $(DOCDIR)/help.txt

install: $(JAR)
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(DOCDIR)"
	install -m 644 $(JAR) "$(DESTDIR)$(LIBDIR)/kelpie.jar"
	printf '#!/bin/sh\n# Kelpie (make install): KELPIE_JAVA_OPTS are passed to the JVM\nexec java $${KELPIE_JAVA_OPTS:-} -jar "%s/kelpie.jar" "$$@"\n' \
		"$(LIBDIR)" > "$(DESTDIR)$(BINDIR)/kelpie"
	chmod 755 "$(DESTDIR)$(BINDIR)/kelpie"
	install -m 755 nbd/kelpie-nbd "$(DESTDIR)$(BINDIR)/kelpie-nbd"
	for u in $(UNITS); do sed 's|/usr/local/bin/kelpie|$(BINDIR)/kelpie|g' "systemd/$$u" > "$(DESTDIR)$(UNITDIR)/$$u" \
		&& chmod 644 "$(DESTDIR)$(UNITDIR)/$$u" || exit 1; done
	install -m 644 systemd/kelpie.env "$(DESTDIR)$(DOCDIR)/kelpie.env.example"
	install -m 644 nbd/nbdtab.example README.md "$(DESTDIR)$(DOCDIR)/"
	for c in "" "node run" "cluster" "vdi"; do echo "\$$ kelpie $$c --help"; java -jar $(JAR) $$c --help; echo; done \
		> "$(DESTDIR)$(DOCDIR)/help.txt"

uninstall:
	rm -f $(foreach f,$(INSTALLED),"$(DESTDIR)$(f)")
	-rmdir "$(DESTDIR)$(LIBDIR)" "$(DESTDIR)$(DOCDIR)" 2>/dev/null

clean:
	$(MVN) clean
