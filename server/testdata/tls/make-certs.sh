#!/bin/sh
# Regenerates the FastChat test TLS certificates in this directory.
# FOR TESTS ONLY: the private keys are public (committed to the repository).
# Usage: sh server/testdata/tls/make-certs.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. A self-signed CA (EC P-256, 100 years). Its key is thrown away.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca-key.pem"
openssl req -x509 -new -sha256 -days 36525 -key "$tmp/ca-key.pem" \
  -subj "/O=FastChat tests/CN=FastChat Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -out ca.pem

# 2. A server key (EC P-256, PKCS#8) and a certificate for 127.0.0.1 and localhost.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server-key.pem
openssl req -new -sha256 -key server-key.pem \
  -subj "/O=FastChat tests/CN=localhost" -out "$tmp/server.csr"
cat > "$tmp/server.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -sha256 -days 36525 -in "$tmp/server.csr" \
  -CA ca.pem -CAkey "$tmp/ca-key.pem" -CAcreateserial -CAserial "$tmp/ca.srl" \
  -extfile "$tmp/server.ext" -out server.pem
chmod 644 ca.pem server.pem server-key.pem
openssl verify -CAfile ca.pem server.pem
