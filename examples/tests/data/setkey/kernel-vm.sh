# ipsec-setkey against the live kernel, for the QEMU guest of tests/kernel-vm:
#   tests/kernel-vm/run.sh --file target/debug/ipsec-setkey \
#     --file examples/tests/data/setkey/seed001-tunnel.conf:/kvm/setkey/seed001-tunnel.conf \
#     --script examples/tests/data/setkey/kernel-vm.sh --name setkey
# Loads seed 001's tunnel configuration and checks the kernel's own view of
# it (ip xfrm), then deleteall/spddelete/flush and a refused statement.
set -eu
fail() { echo "FAIL: $*"; exit 1; }
count() { grep -c "$1" || true; }

ipsec-setkey -F
ipsec-setkey -FP
ipsec-setkey -f /kvm/setkey/seed001-tunnel.conf || fail "loading seed001-tunnel.conf"

st="$(ip xfrm state)"
pol="$(ip xfrm policy)"
echo "$st"
echo "$pol"
echo "$st" | grep -q "proto esp spi 0x00000201 reqid 0 mode tunnel" || fail "SA 0x201 missing"
echo "$st" | grep -q "proto esp spi 0x00000301 reqid 0 mode tunnel" || fail "SA 0x301 missing"
echo "$st" | grep -q "enc cbc(des3_ede) 0x7aeaca3f87d060a12f4a4487d5a5c3355920fae69a96c831" ||
  fail "3DES key of 0x201 wrong"
echo "$st" | grep -q "auth-trunc hmac(md5) 0xc0291ff014dccdd03874d9e8e4cdf3e6 96" ||
  fail "HMAC-MD5 key of 0x201 wrong"
[ "$(echo "$pol" | count '^src 172.16')" = 3 ] || fail "expected 3 policies"
echo "$pol" | grep -q "dir fwd" || fail "fwd policy missing"
echo "$pol" | grep -q "tmpl src 192.168.1.100 dst 192.168.2.100" || fail "tunnel endpoints wrong"

[ "$(ipsec-setkey -D | count '^Dump')" = 2 ] || fail "-D should list 2 SAs"
[ "$(ipsec-setkey -DP | count '^SpdDump')" = 3 ] || fail "-DP should list 3 policies"

printf 'deleteall 192.168.1.100 192.168.2.100 esp;\nspddelete 172.16.2.0/24 172.16.1.0/24 any -P fwd;\n' |
  ipsec-setkey -c || fail "deleteall/spddelete"
ip xfrm state | grep -q "spi 0x00000201" && fail "deleteall left SA 0x201"
ip xfrm state | grep -q "spi 0x00000301" || fail "deleteall removed the other direction"
ip xfrm policy | grep -q "dir fwd" && fail "spddelete left the fwd policy"

dup='add 10.0.0.1 10.0.0.2 esp 0x300 -E aes-cbc 0x00112233445566778899aabbccddeeff;'
if out="$(printf 'flush;\n%s\n%s\n' "$dup" "$dup" | ipsec-setkey -c 2>&1)"; then
  fail "a duplicate add was accepted"
fi
echo "$out" | grep -q "stdin:3: kernel refused Add: File exists" || fail "refusal not reported: $out"

ipsec-setkey -F
ipsec-setkey -FP
[ "$(ipsec-setkey -D)" = "(no entries)" ] || fail "-F left SAs"
[ "$(ipsec-setkey -DP)" = "(no entries)" ] || fail "-FP left policies"
echo "ipsec-setkey on the live kernel: ok"
