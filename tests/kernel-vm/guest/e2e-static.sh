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
	load_setkey static $mode
	# The setkey example's own dump lists the two SAs, in each namespace.
	for host in a b; do
		n=$(in_ns e2e$host ipsec-setkey -D | grep -c '^Dump' || true)
		[ "$n" = 2 ] && ok "$mode: ipsec-setkey -D lists 2 SAs in e2e$host" ||
			fail "$mode: ipsec-setkey -D lists $n SAs in e2e$host, want 2"
	done
	ping_both $mode "$2" "$3" "$4" "$5"
	# 10 requests and 10 replies each way: every SA carried at least 20.
	expect_esp_counted "$mode" 20
	[ "$fails" = 0 ] || show_state "$mode"
	e2e_down
}

static tunnel $LAN_A $LAN_B $LAN_B $LAN_A
static transport $GW_A $GW_B $GW_B $GW_A

e2e_verdict e2e-static
