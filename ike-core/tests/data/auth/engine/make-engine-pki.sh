#!/bin/sh
# Host certificates for the engine simulator tests (ike-core/tests/
# engine_certificates.rs), issued by the CAs of ../make-pki.sh (OpenSSL 3).
# The generated files are committed, so the tests need no tools.
#
#   a        RSA 2048, by sub-ca; SAN IP 192.0.2.1, DNS a.example.com,
#            email alice@example.com (simulator node A)
#   a-chain.p7b  PKCS#7 bundle of a + sub-ca
#   b        RSA 2048, by root-ca; SAN IP 198.51.100.2, DNS b.example.com,
#            email bob@example.com (simulator node B)
#   rogue-b  same subject and SAN as b, issued by rogue-ca (untrusted)
#   a6, b6   RSA 2048, by root-ca; SAN IP 2001:db8::1 / 2001:db8::2 (IPv6 nodes)
#   b.plainrsa.pub  b's public key as a racoon plain_rsa ': PUB 0s…' line
set -eu
cd "$(dirname "$0")"
P=..
rm -rf work && mkdir work
D=3650
cat > work/ext.cnf <<CNF
[a]
basicConstraints = CA:FALSE
subjectAltName = IP:192.0.2.1, DNS:a.example.com, email:alice@example.com
[b]
basicConstraints = CA:FALSE
subjectAltName = IP:198.51.100.2, DNS:b.example.com, email:bob@example.com
[a6]
basicConstraints = CA:FALSE
subjectAltName = IP:2001:db8::1
[b6]
basicConstraints = CA:FALSE
subjectAltName = IP:2001:db8::2
CNF
key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null; }
issue() { # name issuer-path subject section
  openssl req -new -key "$1.key" -subj "$3" -out "work/$1.csr"
  openssl x509 -req -in "work/$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAserial work/serial \
    -CAcreateserial -sha256 -days $D -extfile work/ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
}
key a;       issue a $P/sub-ca "/C=XX/O=IPsec Test/CN=a.example.com" a
key b;       issue b $P/root-ca "/C=XX/O=IPsec Test/CN=b.example.com" b
key rogue-b; issue rogue-b $P/rogue-ca "/C=XX/O=IPsec Test/CN=b.example.com" b
key a6;      issue a6 $P/root-ca "/C=XX/O=IPsec Test/CN=a6.example.com" a6
key b6;      issue b6 $P/root-ca "/C=XX/O=IPsec Test/CN=b6.example.com" b6
cat a.pem $P/sub-ca.pem > work/a-chain.pem
openssl crl2pkcs7 -nocrl -certfile work/a-chain.pem -outform DER -out a-chain.p7b
rm -rf work
