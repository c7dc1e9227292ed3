#!/usr/bin/env bash
# NBD over TLS (--tls require --tls-verify-peer) and per-VDI access lists, with real clients:
# plaintext refused, nbdinfo/nbdcopy (nbds://) and qemu-img (tls-creds-x509) served, a server of
# another CA or a client without a certificate refused, ACLs by certificate CN and by address.
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || fail "openssl is needed to make the test CA"

PKI=$WORK/pki
mkdir -p "$PKI"
ssl() { openssl "$@" >>"$WORK/openssl.log" 2>&1 || fail "openssl $*: $(tail -n 5 "$WORK/openssl.log")"; }
make_ca() { # DIR CN
  mkdir -p "$1"
  ssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/ca-key.pem" -out "$1/ca-cert.pem" -days 2 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
issue() { # CA DIR PREFIX CN EXT: a key as 'openssl genrsa -traditional' writes it, signed by CA
  mkdir -p "$2"
  ssl genrsa -traditional -out "$2/$3-key.pem" 2048
  ssl req -new -key "$2/$3-key.pem" -subj "/O=Kelpie/CN=$4" -out "$2/$3.csr"
  printf '%s\n' "$5" >"$2/$3.ext"
  ssl x509 -req -in "$2/$3.csr" -CA "$1/ca-cert.pem" -CAkey "$1/ca-key.pem" -CAcreateserial -days 2 \
    -extfile "$2/$3.ext" -out "$2/$3-cert.pem"
  cp "$1/ca-cert.pem" "$2/ca-cert.pem"
}
make_ca "$PKI/ca" "Kelpie test CA"
make_ca "$PKI/other-ca" "Some other CA"
issue "$PKI/ca" "$PKI/server" server localhost "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
issue "$PKI/ca" "$PKI/alice" client alice "extendedKeyUsage=clientAuth"
issue "$PKI/ca" "$PKI/bob" client bob "extendedKeyUsage=clientAuth"
mkdir -p "$PKI/nocert" "$PKI/wrongca"
cp "$PKI/ca/ca-cert.pem" "$PKI/nocert/"                        # trusts the server, has no certificate
cp "$PKI/alice/client-"*.pem "$PKI/wrongca/"; cp "$PKI/other-ca/ca-cert.pem" "$PKI/wrongca/"  # trusts another CA

# A bad setup is one clear line at startup, not a failed handshake later.
if out=$(kelpie node run --dir "$WORK/bad" --nbd-port 0 --tls require 2>&1); then fail "--tls without certificates started"; fi
echo "$out" | grep -q -- "--tls-certificates" || fail "no clear error for --tls without --tls-certificates: $out"
cp -r "$PKI/server" "$PKI/mismatch"; cp "$PKI/alice/client-key.pem" "$PKI/mismatch/server-key.pem"
if out=$(kelpie node run --dir "$WORK/bad" --nbd-port 0 --tls on --tls-certificates "$PKI/mismatch" 2>&1); then fail "a mismatched key started"; fi
echo "$out" | grep -q "is not the key of" || fail "no clear error for a key of another certificate: $out"

start_node n1 --tls require --tls-certificates "$PKI/server" --tls-verify-peer
kelpie cluster format -a "$(addr n1)" >/dev/null
kelpie vdi create vm1 64M -a "$(addr n1)" >/dev/null
kelpie vdi create vault 16M -a "$(addr n1)" >/dev/null
port=${NODE_NBD[n1]}
tls_uri() { echo "nbds://127.0.0.1:$port/$1?tls-certificates=$PKI/$2"; }

# Plaintext: nothing listed, nothing served.
if out=$(nbdinfo --list "nbd://127.0.0.1:$port" 2>&1); then fail "plaintext listing worked: $out"; fi
echo "$out" | grep -q vm1 && fail "plaintext listing shows vm1: $out"
if nbdinfo --size "nbd://127.0.0.1:$port/vm1" >/dev/null 2>&1; then fail "plaintext nbd:// was served"; fi
log "plaintext refused"

# TLS with a certificate of the CA: listed, written by qemu-img, read back by nbdcopy.
out=$(nbdinfo --list "$(tls_uri "" alice)") || fail "nbdinfo over TLS failed: $out"
echo "$out" | grep -q 'with TLS' || fail "nbdinfo did not negotiate TLS: $out"
echo "$out" | grep -q 'export="vm1"' || fail "the TLS listing lacks vm1: $out"
head -c 8M /dev/urandom >"$WORK/src.img"
qemu-img convert -n -f raw --object "tls-creds-x509,id=tls0,dir=$PKI/alice,endpoint=client" "$WORK/src.img" \
  --target-image-opts "driver=nbd,host=127.0.0.1,port=$port,export=vm1,tls-creds=tls0" || fail "qemu-img convert over TLS failed"
qemu-img info --object "tls-creds-x509,id=tls0,dir=$PKI/alice,endpoint=client" \
  --image-opts "driver=nbd,host=127.0.0.1,port=$port,export=vm1,tls-creds=tls0" | grep -q "virtual size: 64 MiB" \
  || fail "qemu-img info over TLS"
nbdcopy "$(tls_uri vm1 alice)" "$WORK/back.img" || fail "nbdcopy over TLS failed"
cmp -n $((8 << 20)) "$WORK/src.img" "$WORK/back.img" || fail "bytes read over TLS differ from those written"
log "nbdinfo, qemu-img and nbdcopy over TLS: bytes match"

# nbd-client (GnuTLS) lists over TLS with its certificate options; in plaintext it lists nothing.
out=$(nbd-client -l 127.0.0.1 -p "$port" -x -cacertfile "$PKI/alice/ca-cert.pem" -certfile "$PKI/alice/client-cert.pem" \
  -keyfile "$PKI/alice/client-key.pem" -tlshostname localhost 2>&1) || fail "nbd-client -l over TLS failed: $out"
echo "$out" | grep -q '^vm1:' || fail "nbd-client's TLS listing lacks vm1: $out"
if out=$(nbd-client -l 127.0.0.1 -p "$port" 2>&1) && echo "$out" | grep -q '^vm1:'; then
  fail "nbd-client listed vm1 in plaintext: $out"
fi
log "nbd-client lists over TLS with its certificate options"

# The server's certificate from another CA, or no client certificate: refused.
if nbdinfo --size "$(tls_uri vm1 wrongca)" >/dev/null 2>&1; then fail "a client trusting another CA connected"; fi
if nbdinfo --size "$(tls_uri vm1 nocert)" >/dev/null 2>&1; then fail "a client without a certificate was served"; fi
grep -q "TLS handshake failed" "$WORK/n1.log" || fail "the node did not log the failed handshake"
log "wrong CA and missing client certificate refused"

# Access lists: by certificate CN, then by address.
kelpie vdi acl vault allow cn:bob -a "$(addr n1)" || fail "vdi acl allow"
kelpie vdi snapshot vault -s s1 -a "$(addr n1)" >/dev/null
[ "$(kelpie vdi acl vault list -a "$(addr n1)")" = "allow cn:bob" ] || fail "acl list: $(kelpie vdi acl vault list -a "$(addr n1)")"
out=$(nbdinfo --list "$(tls_uri "" alice)")
echo "$out" | grep -q 'export="vault' && fail "alice sees vault or its snapshot: $out"
if out=$(nbdinfo --size "$(tls_uri vault alice)" 2>&1); then fail "alice opened vault: $out"; fi
if nbdinfo --size "$(tls_uri vault@s1 alice)" >/dev/null 2>&1; then fail "alice opened vault's snapshot"; fi
grep -q "refused VDI 'vault': its access list does not allow this client" "$WORK/n1.log" || fail "no refusal logged"
[ "$(nbdinfo --size "$(tls_uri vault bob)")" = $((16 << 20)) ] || fail "bob cannot open vault"
[ "$(nbdinfo --size "$(tls_uri vault@s1 bob)")" = $((16 << 20)) ] || fail "bob cannot open vault@s1"
nbdinfo --list "$(tls_uri "" bob)" | grep -q 'export="vault@s1"' || fail "bob does not see vault@s1"
kelpie vdi acl vault allow addr:127.0.0.2 -a "$(addr n1)"
if nbdinfo --size "$(tls_uri vault alice)" >/dev/null 2>&1; then fail "alice at 127.0.0.1 opened vault"; fi
kelpie vdi acl vault allow 127.0.0.0/8 -a "$(addr n1)"
[ "$(nbdinfo --size "$(tls_uri vault alice)")" = $((16 << 20)) ] || fail "alice from 127.0.0.0/8 cannot open vault"
kelpie vdi acl vault deny cn:alice -a "$(addr n1)"
if nbdinfo --size "$(tls_uri vault alice)" >/dev/null 2>&1; then fail "a deny cn:alice was not obeyed"; fi
kelpie vdi acl vault clear -a "$(addr n1)"
[ "$(nbdinfo --size "$(tls_uri vault alice)")" = $((16 << 20)) ] || fail "a cleared list is not open to all"
log "ACLs by cn and address (the snapshot follows its VDI)"
log "PASS"
