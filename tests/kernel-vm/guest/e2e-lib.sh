# Shared by the end-to-end guest steps (e2e-static.sh, e2e-daemon.sh); run.sh
# copies it to /kvm/e2e/lib.sh, next to the files of
# examples/tests/data/kernel-e2e/. Sourced by dash, as root, in the guest.
#
# Two hosts in seed 001's layout ("Linux IPsec HOWTO", racoon + setkey):
#
#   netns e2ea                                   netns e2eb
#   172.16.1.1 (lo) -- 192.168.1.100 ==veth== 192.168.2.100 -- 172.16.2.1 (lo)
#
# The gateways talk point to point over the veth pair; each "LAN" is one
# address on the namespace's lo, routed to the peer gateway, so tunnel mode
# protects 172.16.1.0/24 <-> 172.16.2.0/24 and transport mode
# 192.168.1.100 <-> 192.168.2.100.

E2E=/kvm/e2e
GW_A=192.168.1.100
GW_B=192.168.2.100
LAN_A=172.16.1.1
LAN_B=172.16.2.1

fails=0

ok() { echo "ok   $*"; }
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

# e2e_up: both namespaces, the veth pair, addresses and routes (one ip -batch
# per namespace: each ip process costs up to a second under TCG).
e2e_up() {
	ip netns add e2ea
	ip netns add e2eb
	ip link add va netns e2ea type veth peer name vb netns e2eb
	ip -n e2ea -batch - <<-EOF
		link set lo up
		link set va up
		addr add $GW_A peer $GW_B dev va
		addr add $LAN_A/32 dev lo
		route add 172.16.2.0/24 via $GW_B src $LAN_A
	EOF
	ip -n e2eb -batch - <<-EOF
		link set lo up
		link set vb up
		addr add $GW_B peer $GW_A dev vb
		addr add $LAN_B/32 dev lo
		route add 172.16.1.0/24 via $GW_A src $LAN_B
	EOF
}

e2e_down() {
	ip netns del e2ea 2>/dev/null || true
	ip netns del e2eb 2>/dev/null || true
}

# in_ns NS COMMAND...: run COMMAND in NS (iproute2's ip finds it on PATH).
in_ns() {
	ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# sa_counter NS SRC DST FIELD: the sum over NS's ESP SAs from SRC to DST of
# the current lifetime's FIELD ("packets" or "bytes"), from ip -s xfrm state.
# In tunnel mode it counts ESP input/output, in transport mode the payload;
# either way it stays 0 unless packets went through that SA.
sa_counter() {
	ip -n "$1" -s xfrm state | awk -v src="$2" -v dst="$3" -v field="$4" '
		/^src / { mine = ($2 == src && $4 == dst) }
		mine && /lifetime current:/ { want = 1; next }
		want {
			want = 0
			for (i = 1; i <= NF; i++) {
				n = $i
				if (sub("\\(" field "\\),?$", "", n)) total += n
			}
		}
		END { print total + 0 }'
}

# sa_count NS: how many SAs NS's kernel holds, not counting the larval
# states (SPI 0) the kernel makes itself for an ACQUIRE.
sa_count() {
	ip -n "$1" xfrm state | grep 'proto esp spi' | grep -vc 'spi 0x00000000' || true
}

# ping_ok NS FROM TO COUNT OUTFILE: COUNT echoes, one per 0.2 s, each waiting
# at most 1 s; true when every one was answered.
ping_ok() {
	in_ns "$1" ping -q -c "$4" -i 0.2 -W 1 -I "$2" "$3" >"$5" 2>&1 &&
		grep -q " $4 packets received" "$5"
}

# show_state TITLE: the kernels' view, for a reader of a failed run.
show_state() {
	echo "----- $1: kernel state"
	for ns in e2ea e2eb; do
		echo "--- $ns: ip -s xfrm state"
		ip -n $ns -s xfrm state 2>&1 | sed 's/^/    /'
		echo "--- $ns: ip xfrm policy"
		ip -n $ns xfrm policy 2>&1 | sed 's/^/    /'
	done
	echo "--- XfrmIn/Out errors (e2ea, e2eb)"
	in_ns e2ea cat /proc/net/xfrm_stat 2>/dev/null | awk '$2 != 0' | sed 's/^/    a: /'
	in_ns e2eb cat /proc/net/xfrm_stat 2>/dev/null | awk '$2 != 0' | sed 's/^/    b: /'
}

# show_file TITLE FILE
show_file() {
	echo "--- $1"
	sed 's/^/    /' "$2" 2>/dev/null || echo "    (no such file: $2)"
}

# expect_esp_counted LABEL MIN: after pings both ways, each of the four SAs
# between the gateways (out and in, on both hosts) counted at least MIN.
expect_esp_counted() {
	mode=$1
	min=$2
	out_a=$(sa_counter e2ea $GW_A $GW_B packets)
	in_b=$(sa_counter e2eb $GW_A $GW_B packets)
	out_b=$(sa_counter e2eb $GW_B $GW_A packets)
	in_a=$(sa_counter e2ea $GW_B $GW_A packets)
	if [ "$out_a" -ge "$min" ] && [ "$in_b" -ge "$min" ] && [ "$out_b" -ge "$min" ] && [ "$in_a" -ge "$min" ]; then
		ok "$mode: every SA counted >= $min packets (a->b out $out_a in $in_b, b->a out $out_b in $in_a)"
	else
		fail "$mode: SA packet counters below $min (a->b out $out_a in $in_b, b->a out $out_b in $in_a): traffic did not go through ESP"
	fi
}

# load_setkey KIND CASE [LABEL]: ipsec-setkey -f KIND-CASE-HOST.conf in each
# host's namespace (KIND: static or policy).
load_setkey() {
	label=${3:-$2}
	for host in a b; do
		conf=$1-$2-$host.conf
		if in_ns e2e$host ipsec-setkey -f $E2E/$conf >/tmp/setkey-$host.txt 2>&1; then
			ok "$label: ipsec-setkey -f $conf in e2e$host"
		else
			fail "$label: ipsec-setkey -f $conf in e2e$host"
			show_file "ipsec-setkey output" /tmp/setkey-$host.txt
		fi
	done
}

# ping_both LABEL FROM_A TO_B FROM_B TO_A: 10 echoes a -> b, then b -> a,
# into /tmp/ping-ab-LABEL.txt and /tmp/ping-ba-LABEL.txt.
ping_both() {
	for dir in ab ba; do
		if [ $dir = ab ]; then ns=e2ea from=$2 to=$3; else ns=e2eb from=$4 to=$5; fi
		out=/tmp/ping-$dir-$1.txt
		if ping_ok $ns "$from" "$to" 10 "$out"; then
			ok "$1: ping $from -> $to: $(grep loss "$out")"
		else
			fail "$1: ping $from -> $to"
			show_file "ping output" "$out"
		fi
	done
}

# e2e_verdict NAME: the step's exit status.
e2e_verdict() {
	if [ "$fails" -gt 0 ]; then
		echo "$1: $fails check(s) failed"
		exit 1
	fi
	echo "$1: all checks passed"
}
