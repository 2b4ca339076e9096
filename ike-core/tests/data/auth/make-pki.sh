#!/bin/sh
# Regenerates the test PKI used by ike-core/tests/auth_*.rs (OpenSSL 3).
# The generated files are committed, so the tests need no tools.
#
#   root-ca        RSA 2048, SHA-256, CA:TRUE            (the trusted anchor)
#   sub-ca         RSA 2048, SHA-384, CA:TRUE, by root   (intermediate)
#   gw             RSA 2048, SHA-256, by sub-ca; SAN IP 203.0.113.5,
#                  DNS gw.example.com, email admin@example.com
#   pix            RSA 2048, SHA-1, by root; CN=pix.example.com, no SAN (seed 000)
#   big            RSA 4096, SHA-512, by root; SAN IP 198.51.100.20 (fragmentation)
#   revoked        RSA 2048, by root, listed in root-ca.crl
#   leaf-issued    signed by gw (CA:FALSE): must fail basic constraints
#   rogue-ca/rogue same subject names as root-ca/gw, different key: untrusted
#   gw-chain.p7b   PKCS#7 bundle of gw + sub-ca
#   gw.hash.sig    OpenSSL's PKCS#1 v1.5 signature (no DigestInfo) over gw.hash
set -eu
cd "$(dirname "$0")"
rm -rf work && mkdir work
D=3650

cat > work/ext.cnf <<CNF
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[gw]
basicConstraints = CA:FALSE
subjectAltName = IP:203.0.113.5, DNS:gw.example.com, email:admin@example.com
[pix]
basicConstraints = CA:FALSE
[big]
basicConstraints = CA:FALSE
subjectAltName = IP:198.51.100.20
[plain]
basicConstraints = CA:FALSE
subjectAltName = DNS:revoked.example.com
CNF

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -out "$1.key" 2>/dev/null; }

key root-ca 2048
openssl req -x509 -new -key root-ca.key -sha256 -days $D -subj "/C=XX/O=IPsec Test/CN=Test Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root-ca.pem

issue() { # name issuer digest subject section
  openssl req -new -key "$1.key" -subj "$4" -out "work/$1.csr"
  openssl x509 -req -in "work/$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
    -"$3" -days $D -extfile work/ext.cnf -extensions "$5" -out "$1.pem" 2>/dev/null
}

key sub-ca 2048;  issue sub-ca root-ca sha384 "/C=XX/O=IPsec Test/CN=Test Sub CA" ca
key gw 2048;      issue gw sub-ca sha256 "/C=XX/O=IPsec Test/OU=Gateways/CN=gw.example.com" gw
key pix 2048;     issue pix root-ca sha1 "/CN=pix.example.com" pix
key big 4096;     issue big root-ca sha512 "/C=XX/O=IPsec Test/CN=big.example.com" big
key revoked 2048; issue revoked root-ca sha256 "/C=XX/O=IPsec Test/CN=revoked.example.com" plain
key leaf-issued 2048; issue leaf-issued gw sha256 "/CN=leaf-issued.example.com" plain
key rogue-ca 2048
openssl req -x509 -new -key rogue-ca.key -sha256 -days $D -subj "/C=XX/O=IPsec Test/CN=Test Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out rogue-ca.pem
key rogue 2048;   issue rogue rogue-ca sha256 "/C=XX/O=IPsec Test/OU=Gateways/CN=gw.example.com" gw

# CRL from root-ca listing "revoked".
mkdir -p work/ca && : > work/ca/index.txt && echo 1000 > work/ca/crlnumber
cat > work/ca.cnf <<CNF
[ca]
default_ca = root
[root]
database = work/ca/index.txt
crlnumber = work/ca/crlnumber
certificate = root-ca.pem
private_key = root-ca.key
default_md = sha256
default_crl_days = $D
CNF
openssl ca -config work/ca.cnf -revoke revoked.pem 2>/dev/null
openssl ca -config work/ca.cnf -gencrl -out root-ca.crl.pem 2>/dev/null
openssl crl -in root-ca.crl.pem -outform DER -out root-ca.crl.der

# Other encodings of the same objects.
openssl x509 -in gw.pem -outform DER -out gw.der
cat gw.pem sub-ca.pem > gw-chain.pem
openssl crl2pkcs7 -nocrl -certfile gw-chain.pem -outform DER -out gw-chain.p7b
openssl rsa -in gw.key -pubout -RSAPublicKey_out -out gw.rsapub.pem 2>/dev/null
openssl rsa -in gw.key -pubout -out gw.spki.pem 2>/dev/null
openssl rsa -in gw.key -traditional -out gw.pkcs1.key 2>/dev/null

# An independent signature over a 20-byte HASH_I: PKCS#1 v1.5, no DigestInfo.
printf '\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020\021\022\023\024' > gw.hash
openssl pkeyutl -sign -inkey gw.key -pkeyopt rsa_padding_mode:pkcs1 -in gw.hash -out gw.hash.sig

# racoon plain_rsa files of the gw key.
python3 make-plainrsa.py

rm -rf work *.srl
