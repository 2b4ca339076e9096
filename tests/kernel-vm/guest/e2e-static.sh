# Guest step: seed 001's manual-key setup between two namespaces, loaded with
# our setkey example (ipsec-setkey -f, through PF_KEY), then pings through
# kernel ESP in tunnel and in transport mode. The SA counters must move: the
# policies say `require`, so clear traffic is not an option, and a counter
# of 0 means the packets never met the SA (see e2e-lib.sh for the layout).
set -eu
. /kvm/e2e/lib.sh

# static MODE FROM_A TO_B FROM_B TO_A
static() {
	mode=$1
	e2e_up
	for host in a b; do
		if in_ns e2e$host ipsec-setkey -f $E2E/static-$mode-$host.conf >/tmp/setkey-$host.txt 2>&1; then
			ok "$mode: ipsec-setkey -f static-$mode-$host.conf in e2e$host"
		else
			fail "$mode: ipsec-setkey -f static-$mode-$host.conf in e2e$host"
			show_file "ipsec-setkey output" /tmp/setkey-$host.txt
		fi
	done
	# The setkey example's own dump lists the two SAs, in each namespace.
	for host in a b; do
		n=$(in_ns e2e$host ipsec-setkey -D | grep -c '^Dump' || true)
		[ "$n" = 2 ] && ok "$mode: ipsec-setkey -D lists 2 SAs in e2e$host" ||
			fail "$mode: ipsec-setkey -D lists $n SAs in e2e$host, want 2"
	done
	if ping_ok e2ea "$2" "$3" 10 /tmp/ping-ab.txt; then
		ok "$mode: ping $2 -> $3: $(grep loss /tmp/ping-ab.txt)"
	else
		fail "$mode: ping $2 -> $3"
		show_file "ping output" /tmp/ping-ab.txt
	fi
	if ping_ok e2eb "$4" "$5" 10 /tmp/ping-ba.txt; then
		ok "$mode: ping $4 -> $5: $(grep loss /tmp/ping-ba.txt)"
	else
		fail "$mode: ping $4 -> $5"
		show_file "ping output" /tmp/ping-ba.txt
	fi
	# 10 requests and 10 replies each way: every SA carried at least 20.
	expect_esp_counted "$mode" 20
	[ "$fails" = 0 ] || show_state "$mode"
	e2e_down
}

static tunnel $LAN_A $LAN_B $LAN_B $LAN_A
static transport $GW_A $GW_B $GW_B $GW_A

if [ "$fails" -gt 0 ]; then
	echo "e2e-static: $fails check(s) failed"
	exit 1
fi
echo "e2e-static: all checks passed"
