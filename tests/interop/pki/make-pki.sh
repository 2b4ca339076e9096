#!/bin/sh
# Regenerates the interop PKI (OpenSSL 3). The generated files are committed,
# so the suite never depends on OpenSSL's randomness or on a tool at test time.
#
#   ca            RSA 2048, SHA-256, CA:TRUE; C=XX, O=ipsec-rs Interop, CN=ipsec-rs Interop CA
#   charon        RSA 1024, by ca; SAN IP 10.99.0.2, DNS charon.interop.test
#                 subject C=XX, O=ipsec-rs Interop, CN=charon.interop.test
#   tanuki        RSA 1024, by ca; SAN IP 10.99.0.1, DNS tanuki.interop.test
#                 subject C=XX, O=ipsec-rs Interop, CN=tanuki.interop.test
#   charon-big    RSA 2048, by ca; as charon plus DNS names that make the
#   tanuki-big    certificate about 1.3 kB, so Main Mode 5/6 exceed charon's
#                 default fragment_size (1280) and are sent as fragments
#   pix           RSA 1024, by ca; CN=pix.example.com and NO subjectAltName:
#                 seed 000's Cisco PIX, which identifies itself by address
#   other-ca      an unrelated CA (same layout), for "untrusted CA" cases
#
# The small 1024-bit keys keep the ordinary scenarios' Main Mode 5/6 well
# under 1280 bytes, so only the *-big scenario depends on fragmentation.
# Validity: 20 years from generation (7300 days).
set -eu
cd "$(dirname "$0")"
rm -rf work && mkdir work
D=7300

cat > work/ext.cnf <<CNF
[charon]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
subjectAltName = IP:10.99.0.2, DNS:charon.interop.test
[tanuki]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
subjectAltName = IP:10.99.0.1, DNS:tanuki.interop.test
[charon_big]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
subjectAltName = @charon_big_names
[tanuki_big]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
subjectAltName = @tanuki_big_names
[pix]
basicConstraints = CA:FALSE
[charon_big_names]
IP.1 = 10.99.0.2
DNS.1 = charon.interop.test
DNS.2 = gateway-01.fragmentation.interop.test
DNS.3 = gateway-02.fragmentation.interop.test
DNS.4 = gateway-03.fragmentation.interop.test
DNS.5 = gateway-04.fragmentation.interop.test
DNS.6 = gateway-05.fragmentation.interop.test
DNS.7 = gateway-06.fragmentation.interop.test
DNS.8 = gateway-07.fragmentation.interop.test
DNS.9 = gateway-08.fragmentation.interop.test
DNS.10 = gateway-09.fragmentation.interop.test
DNS.11 = gateway-10.fragmentation.interop.test
[tanuki_big_names]
IP.1 = 10.99.0.1
DNS.1 = tanuki.interop.test
DNS.2 = gateway-01.fragmentation.interop.test
DNS.3 = gateway-02.fragmentation.interop.test
DNS.4 = gateway-03.fragmentation.interop.test
DNS.5 = gateway-04.fragmentation.interop.test
DNS.6 = gateway-05.fragmentation.interop.test
DNS.7 = gateway-06.fragmentation.interop.test
DNS.8 = gateway-07.fragmentation.interop.test
DNS.9 = gateway-08.fragmentation.interop.test
DNS.10 = gateway-09.fragmentation.interop.test
DNS.11 = gateway-10.fragmentation.interop.test
CNF

key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -out "$1.key" 2>/dev/null; }

ca() { # name subject
  key "$1" 2048
  openssl req -x509 -new -key "$1.key" -sha256 -days $D -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem"
}

issue() { # name bits subject section
  key "$1" "$2"
  openssl req -new -key "$1.key" -subj "$3" -out "work/$1.csr"
  openssl x509 -req -in "work/$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -sha256 -days $D -extfile work/ext.cnf -extensions "$4" -out "$1.pem" 2>/dev/null
}

ca ca "/C=XX/O=ipsec-rs Interop/CN=ipsec-rs Interop CA"
ca other-ca "/C=XX/O=Somebody Else/CN=Unrelated CA"
issue charon 1024 "/C=XX/O=ipsec-rs Interop/CN=charon.interop.test" charon
issue tanuki 1024 "/C=XX/O=ipsec-rs Interop/CN=tanuki.interop.test" tanuki
issue charon-big 2048 "/C=XX/O=ipsec-rs Interop/CN=charon.interop.test" charon_big
issue tanuki-big 2048 "/C=XX/O=ipsec-rs Interop/CN=tanuki.interop.test" tanuki_big
issue pix 1024 "/CN=pix.example.com" pix
rm -f other-ca.key

rm -rf work ./*.srl
for c in charon tanuki charon-big tanuki-big pix; do
  printf '%s: %s bytes DER\n' "$c" "$(openssl x509 -in $c.pem -outform DER | wc -c)"
done
