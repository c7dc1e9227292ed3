# Kelpie: 'make' builds target/kelpie.jar, 'make run' starts a one-node cluster, 'make test' runs every test,
# 'make bench' compares NBD performance with nbdkit and nbd-server.
MVN ?= mvn -B -q
JAR := target/kelpie.jar
DATA ?= data
PORT ?= 7000
NBD_PORT ?= 10809

.PHONY: all jar run deps test unit-test native-test bench clean

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

clean:
	$(MVN) clean
