# Guest smoke suite: the kernel under test has what the PF_KEY and ESP
# suites rely on. Runs as a run.sh --script step (dash, as root, in the guest).
set -eu

fails=0
check() {
	# check DESCRIPTION COMMAND...: runs COMMAND, reports, counts failures.
	desc=$1
	shift
	if out=$("$@" 2>&1); then
		echo "ok   $desc"
	else
		echo "FAIL $desc"
		echo "$out" | sed 's/^/     /'
		fails=$((fails + 1))
	fi
}

has_line() { grep -q "$1" "$2"; }

check "af_key is loaded" has_line '^af_key ' /proc/modules
check "/proc/net/pfkey exists" test -e /proc/net/pfkey
# The IV generators of every ESP SA draw from stdrng (RFC 4303 §3.3.2 IVs);
# without one, SA adds fail with ENOENT.
check "a stdrng is registered" has_line 'drbg' /proc/crypto

# RFC 4303 ESP with AES-128-CBC (RFC 3602) + HMAC-SHA1-96 (RFC 2404).
enc_key=0x000102030405060708090a0b0c0d0e0f
auth_key=0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3
check "ip xfrm state add (ESP, AES-CBC + HMAC-SHA1)" \
	ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000 \
	mode transport reqid 1 enc 'cbc(aes)' "$enc_key" auth 'hmac(sha1)' "$auth_key"
ip xfrm state list >/tmp/states 2>&1 || true
check "the SA is listed" has_line 'spi 0x00001000' /tmp/states
check "with its cipher" has_line 'enc cbc(aes) 0x000102030405060708090a0b0c0d0e0f' /tmp/states
check "and its MAC" has_line 'auth-trunc hmac(sha1) 0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3 96' /tmp/states
check "ip xfrm state get finds it" \
	ip xfrm state get src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000
check "ip xfrm state delete" \
	ip xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1000
check "the table is empty again" sh -c '[ -z "$(ip xfrm state list)" ]'

# Kernel ESP end to end: two namespaces joined by a veth pair, one SA each
# way, ICMP between them must go through ESP.
ip netns add a
ip netns add b
ip link add va netns a type veth peer name vb netns b
ip -n a addr add 10.0.0.1/24 dev va
ip -n b addr add 10.0.0.2/24 dev vb
ip -n a link set va up
ip -n b link set vb up
ip -n a link set lo up
ip -n b link set lo up
for ns in a b; do
	ip -n $ns xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 \
		mode transport enc 'cbc(aes)' "$enc_key" auth 'hmac(sha1)' "$auth_key"
	ip -n $ns xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2002 \
		mode transport enc 'cbc(aes)' "$enc_key" auth 'hmac(sha1)' "$auth_key"
done
ip -n a xfrm policy add src 10.0.0.1 dst 10.0.0.2 dir out \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport
ip -n a xfrm policy add src 10.0.0.2 dst 10.0.0.1 dir in \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode transport
ip -n b xfrm policy add src 10.0.0.2 dst 10.0.0.1 dir out \
	tmpl src 10.0.0.2 dst 10.0.0.1 proto esp mode transport
ip -n b xfrm policy add src 10.0.0.1 dst 10.0.0.2 dir in \
	tmpl src 10.0.0.1 dst 10.0.0.2 proto esp mode transport

capture=/tmp/esp.pcap
: >/tmp/tcpdump.err
ip netns exec b tcpdump -Z root -i vb -U -c 2 -w "$capture" esp 2>/tmp/tcpdump.err &
tcpdump_pid=$!
# tcpdump says "listening on" once the capture is open.
i=0
while ! grep -q 'listening on' /tmp/tcpdump.err && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "ping a -> b through ESP" ip netns exec a ping -c 1 -W 5 10.0.0.2
i=0
while kill -0 "$tcpdump_pid" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true
check "tcpdump saw the request and the reply as ESP" \
	sh -c "tcpdump -Z root -n -r $capture 2>/dev/null | grep -c 'ESP(spi=0x0000200[12]' | grep -qx 2"
ip -n b -s xfrm state get src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2001 >/tmp/in-sa
# Transport mode counts the decapsulated payload: 64 bytes of ICMP.
check "b's inbound SA counted the packet" \
	grep -Eq '^[[:space:]]*64\(bytes\), 1\(packets\)' /tmp/in-sa
ip netns del a
ip netns del b

if [ "$fails" -gt 0 ]; then
	echo "smoke: $fails check(s) failed"
	cat /tmp/in-sa 2>/dev/null || true
	exit 1
fi
echo "smoke: all checks passed"
