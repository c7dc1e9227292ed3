# Kelpie: 'make' builds target/kelpie.jar, 'make run' starts a one-node cluster, 'make test' runs every test.
MVN ?= mvn -B -q
JAR := target/kelpie.jar
DATA ?= data
PORT ?= 7000
NBD_PORT ?= 10809

.PHONY: all jar run test unit-test native-test clean

all: jar

jar: $(JAR)

$(JAR): pom.xml $(shell find src/main -type f 2>/dev/null)
	$(MVN) -DskipTests package

run: $(JAR)
	java -jar $(JAR) node run --dir "$(DATA)" --bind 127.0.0.1 --port $(PORT) --nbd-port $(NBD_PORT) --format-if-new

unit-test:
	mvn -B -ntp verify

native-test: $(JAR)
	./native-tests/run-all

test: unit-test native-test

clean:
	$(MVN) clean
