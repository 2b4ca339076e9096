# Guest step: the seeds' scenario end to end (issue #7 §6c). In each of two
# namespaces ipsec-setkey loads only the policies (seed 001's, `require`),
# and tanuki runs with data_path = "kernel". The first ping makes the kernel
# send an ACQUIRE, tanuki negotiates Main Mode + Quick Mode with the other
# tanuki, installs the SAs through PF_KEY, and the pings pass through kernel
# ESP. Tunnel mode (with PFS, and 15-s SAs pinged across their rekey), then
# transport mode, then tunnel mode with a responder that generates its
# policies. SIGTERM must leave no SA behind.
set -eu
. /kvm/e2e/lib.sh

# wait_for TENTHS COMMAND...: true once COMMAND succeeds, polled every 0.1 s.
wait_for() {
	tries=$1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

logged() { grep -q "$1" "$2"; }
# gone PID: exited (an unreaped child stays a zombie, which kill -0 finds).
gone() { [ ! -e /proc/$1 ] || grep -q '^[0-9]* ([^)]*) Z' /proc/$1/stat; }
no_sas() { [ "$(sa_count "$1")" = 0 ]; }

# show_traffic MODE: the pings and the kernels' state while the SAs are up
# (the daemons' logs follow after their shutdown).
show_traffic() {
	show_file "ping output (the last of the first echoes)" /tmp/ping-first-$1.txt
	show_state "$1"
}

# pairs_installed HOST: how many SA pairs tanuki HOST put into the kernel.
pairs_installed() {
	grep -c 'kernel: IPsec-SA pair installed' /tmp/tanuki-tunnel-$1.log || true
}
rekeyed() { [ "$(pairs_installed a)" -ge 2 ] && [ "$(pairs_installed b)" -ge 2 ]; }

# across_rekey FROM TO: pings a -> b, 4 at a time, until both tanukis have
# installed a second pair (the soft lifetime ends 12 s after the first
# pair) and two more rounds went through it; at most 16 rounds (32 s).
across_rekey() {
	sent=0 lost=0 rounds=0 after=0
	while [ $rounds -lt 16 ] && [ $after -lt 2 ]; do
		in_ns e2ea ping -q -c 4 -i 0.5 -W 1 -I "$1" "$2" >/tmp/ping-round.txt 2>&1 || true
		got=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping-round.txt)
		sent=$((sent + 4))
		lost=$((lost + 4 - ${got:-0}))
		rounds=$((rounds + 1))
		! rekeyed || after=$((after + 1))
	done
	# The kernels' soft EXPIREs (80%: 12 s) and the engines' own soft
	# timers fall within milliseconds of each other here: whichever comes
	# first starts the rekey, so the kernel's EXPIRE is reported, not
	# required.
	seen=no
	if cat /tmp/tanuki-tunnel-a.log /tmp/tanuki-tunnel-b.log | grep -q 'kernel: soft EXPIRE of spi=.*rekeying'; then
		seen=yes
	fi
	if rekeyed; then
		ok "tunnel: rekey: new pair installed on both ($(pairs_installed a) and $(pairs_installed b) pairs so far; a kernel soft EXPIRE logged: $seen)"
	else
		fail "tunnel: rekey: no rekey within $rounds rounds ($(pairs_installed a)/$(pairs_installed b) pairs installed)"
	fi
	# The initiator of the rekey may switch to the new outbound SA a
	# moment before the responder has its inbound one (QM3 in flight):
	# one echo may fall into that window.
	if [ $lost -le 1 ]; then
		ok "tunnel: rekey: $((sent - lost)) of $sent echoes answered across the rekey"
	else
		fail "tunnel: rekey: $lost of $sent echoes lost across the rekey"
	fi
	# The old pair is deleted once the new one carries traffic.
	for host in a b; do
		n=$(sa_count e2e$host)
		[ "$n" = 2 ] && ok "tunnel: rekey: e2e$host holds only the new pair" ||
			fail "tunnel: rekey: e2e$host holds $n SAs after the rekey, want 2"
	done
}

# daemons MODE FROM_A TO_B FROM_B TO_A
daemons() {
	mode=$1
	before=$fails
	e2e_up
	load_setkey policy $mode
	policies_a=$(ip -n e2ea xfrm policy | grep -c '^src ' || true)
	policies_b=$(ip -n e2eb xfrm policy | grep -c '^src ' || true)

	for host in a b; do
		log=/tmp/tanuki-$mode-$host.log
		# Not through in_ns: $! must be tanuki itself (ip netns exec execs
		# it), not a subshell that SIGTERM would kill instead.
		ip netns exec e2e$host tanuki run --config $E2E/tanuki-$mode-$host.toml >"$log" 2>&1 &
		eval "pid_$host=\$!"
	done
	for host in a b; do
		if wait_for 100 logged "tanuki started" /tmp/tanuki-$mode-$host.log; then
			ok "$mode: tanuki $host started"
		else
			fail "$mode: tanuki $host did not start within 10 s"
		fi
	done

	# The first echoes are dropped while the kernel's ACQUIRE is answered;
	# one 1-s ping at a time, for at most 30 s, until one comes back.
	tries=30
	until in_ns e2ea ping -c 1 -W 1 -I "$2" "$3" >/tmp/ping-first-$mode.txt 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || break
	done
	if [ "$tries" -gt 0 ]; then
		ok "$mode: first echo answered after $((31 - tries)) attempt(s)"
	else
		fail "$mode: no echo answered within 30 attempts"
	fi
	# Only the kernel's ACQUIRE can have started it: on_demand, no TUN.
	if logged "kernel ACQUIRE for .*: initiate" /tmp/tanuki-$mode-a.log; then
		ok "$mode: tanuki a: $(grep -m1 'kernel ACQUIRE for' /tmp/tanuki-$mode-a.log | sed 's/^.*INFO //')"
	else
		fail "$mode: tanuki a logged no kernel ACQUIRE"
	fi
	for host in a b; do
		if logged "IPsec-SA established" /tmp/tanuki-$mode-$host.log; then
			ok "$mode: tanuki $host: $(grep -m1 'IPsec-SA established' /tmp/tanuki-$mode-$host.log | sed 's/^.*INFO //')"
		else
			fail "$mode: tanuki $host logged no \"IPsec-SA established\""
		fi
	done
	ping_both $mode "$2" "$3" "$4" "$5"
	# The kernel did the ESP: its SAs (tanuki's, through PF_KEY) counted
	# the 10 requests and 10 replies each way.
	expect_esp_counted "$mode" 20
	[ "$mode" != tunnel ] || across_rekey "$2" "$3"
	if [ "$mode" = generate ]; then
		# b's tanuki generated out, in and fwd for 172.16.2.0/24 <->
		# 172.16.1.0/24 (tunnel mode, between the gateways).
		gen=$(ip -n e2eb xfrm policy | grep -c '^src 172\.16\.' || true)
		tmpl=$(ip -n e2eb xfrm policy | grep -Ec "tmpl src ($GW_A|$GW_B) dst ($GW_A|$GW_B)\$" || true)
		if [ "$gen" = 3 ] && [ "$tmpl" = 3 ]; then
			ok "$mode: tanuki b generated 3 policies (out, in, fwd)"
		else
			fail "$mode: tanuki b generated $gen policies with $tmpl tunnel templates, want 3"
		fi
	fi
	[ "$fails" = "$before" ] || show_traffic "$mode"

	# Clean shutdown: each daemon deletes the SAs it installed (and
	# announces it to the peer) and the policies it generated; setkey's
	# stay.
	for host in a b; do
		eval "pid=\$pid_$host"
		kill -TERM "$pid" 2>/dev/null || true
		if wait_for 100 gone "$pid"; then
			ok "$mode: tanuki $host exited on SIGTERM"
		else
			fail "$mode: tanuki $host still running 10 s after SIGTERM"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
		if logged "tanuki stopped" /tmp/tanuki-$mode-$host.log; then
			ok "$mode: tanuki $host logged \"tanuki stopped\""
		else
			fail "$mode: tanuki $host did not log \"tanuki stopped\""
		fi
		if no_sas e2e$host; then
			ok "$mode: no SA left in e2e$host"
		else
			fail "$mode: $(sa_count e2e$host) SA(s) left in e2e$host after tanuki exited"
		fi
	done
	left_a=$(ip -n e2ea xfrm policy | grep -c '^src ' || true)
	left_b=$(ip -n e2eb xfrm policy | grep -c '^src ' || true)
	if [ "$left_a" = "$policies_a" ] && [ "$left_b" = "$policies_b" ]; then
		ok "$mode: only setkey's policies left ($left_a in e2ea, $left_b in e2eb)"
	else
		fail "$mode: policies changed: e2ea $policies_a -> $left_a, e2eb $policies_b -> $left_b"
	fi
	if [ "$fails" != "$before" ]; then
		show_file "tanuki a ($mode) log" /tmp/tanuki-$mode-a.log
		show_file "tanuki b ($mode) log" /tmp/tanuki-$mode-b.log
	fi
	e2e_down
}

daemons tunnel $LAN_A $LAN_B $LAN_B $LAN_A
# Transport mode: the `any` policies between the gateways also match IKE
# itself; tanuki's IKE sockets bypass the SPD (as racoon's do), or MM1
# would wait for an SA and Phase 1 would time out.
daemons transport $GW_A $GW_B $GW_B $GW_A
# Seed 001's responder with generate_policy and passive: only a has
# setkey's policies; b's tanuki installs its own with the SAs.
daemons generate $LAN_A $LAN_B $LAN_B $LAN_A

e2e_verdict e2e-daemon
