#!/usr/bin/env bash
# Two tanuki instances in two throw-away namespaces, NAT-T off. The
# initiator is on_demand: a first ping starts Main Mode + Quick Mode; then
# ESP as raw IP protocol 50 (no UDP) is pinged both ways between the inner
# addresses; then 40 pings of 1400-byte packets exceed the child's 24 KB
# byte lifetime (counted by esp-core), so the initiator rekeys (soft at 80%)
# while the pings keep passing; then SIGTERM and Deletes.
#
#   TANUKI=path/to/tanuki tests/interop/scenarios/tanuki-pair.sh OUTDIR
#
# Prints "RESULT: ..." lines; exits 0 when everything held.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
source "$here/lib.sh"
: "${TANUKI:?}"
out=${1:?OUTDIR}
mkdir -p "$out"
result() { echo "RESULT: $*"; }
fail() { result "FAIL $*"; exit 1; }

interop_init
ns_a=tkp-$$-a ns_b=tkp-$$-b
interop_netns_pair "$ns_a" "$ns_b"

# write_conf FILE LISTEN PEER LOCAL_NET REMOTE_NET INNER PASSIVE ON_DEMAND
write_conf() {
    cat >"$1" <<CONF
listen = "$2"
status_socket = "$out/$(basename "$1" .toml).sock"
tun = "tanuki0"
tun_source = "$6"
phase1_timeout = 15

[[peer]]
address = "$3"
psk = "two tanukis"
proposals = ["aes256-sha1-modp1536"]
nat_traversal = "off"
passive = $7
on_demand = $8

[[peer.child]]
local = "$4"
remote = "$5"
esp = ["aes256-sha1"]
lifetime_kilobytes = 24
CONF
}
write_conf "$out/a.toml" "$INTEROP_ADDR_A" "$INTEROP_ADDR_B" "$INTEROP_NET_A" "$INTEROP_NET_B" "$INTEROP_INNER_A" false true
write_conf "$out/b.toml" "$INTEROP_ADDR_B" "$INTEROP_ADDR_A" "$INTEROP_NET_B" "$INTEROP_NET_A" "$INTEROP_INNER_B" true false

interop_spawn "$ns_b" "$out/b.log" "$TANUKI" run --config "$out/b.toml"
pid_b=$INTEROP_LAST_PID
interop_wait_for 50 "responder tanuki" grep -qs "tanuki started" "$out/b.log" || fail "responder did not start: $(cat "$out/b.log")"
interop_spawn "$ns_a" "$out/a.log" "$TANUKI" run --config "$out/a.toml"
pid_a=$INTEROP_LAST_PID
interop_wait_for 50 "initiator tanuki" grep -qs "tanuki started" "$out/a.log" || fail "initiator did not start: $(cat "$out/a.log")"
sleep 0.5
grep -q "ISAKMP-SA established" "$out/a.log" && fail "on_demand initiator negotiated before any traffic"
# The first echo only triggers the negotiation (it is dropped meanwhile).
ip netns exec "$ns_a" ping -n -q -W 1 -c 1 -I "$INTEROP_INNER_A" "$INTEROP_INNER_B" >/dev/null 2>&1 || true
grep -q "traffic for $INTEROP_INNER_B: initiate" "$out/a.log" || fail "no on-demand initiation: $(tail -3 "$out/a.log")"
result "initiator: $(grep -m1 'traffic for' "$out/a.log" | sed 's/^.*INFO //')"

both_up() { [ "$(grep -c 'IPsec-SA established' "$out/a.log")" -ge 2 ] && [ "$(grep -c 'IPsec-SA established' "$out/b.log")" -ge 2 ]; }
interop_wait_for 200 "IPsec-SA on both" both_up || fail "no IPsec-SA: $(grep -h -E 'ERROR|WARN' "$out/a.log" "$out/b.log" | head -3)"
result "initiator: $(grep -m1 'IPsec-SA established' "$out/a.log" | sed 's/^.*INFO //')"
grep -q "udp-encap" "$out/a.log" && fail "NAT-T off but the SA is UDP-encapsulated"

ip netns exec "$ns_a" ping -n -q -W 2 -c 3 -i 0.2 -I "$INTEROP_INNER_A" "$INTEROP_INNER_B" >"$out/ping-ab.txt" 2>&1 ||
    fail "ping a -> b: $(grep -E 'loss|error' "$out/ping-ab.txt")"
result "ping a -> b: $(grep loss "$out/ping-ab.txt")"
ip netns exec "$ns_b" ping -n -q -W 2 -c 3 -i 0.2 -I "$INTEROP_INNER_B" "$INTEROP_INNER_A" >"$out/ping-ba.txt" 2>&1 ||
    fail "ping b -> a: $(grep -E 'loss|error' "$out/ping-ba.txt")"
result "ping b -> a: $(grep loss "$out/ping-ba.txt")"

# Byte lifetime: 24 KB = 24576 bytes of inner packets, soft at 19660 (the
# 15th 1400-byte packet), hard at the 18th: the rekey must be up in between.
ip netns exec "$ns_a" ping -n -q -W 2 -c 40 -i 0.2 -s 1372 -I "$INTEROP_INNER_A" "$INTEROP_INNER_B" >"$out/ping-bulk.txt" 2>&1 ||
    fail "bulk ping a -> b: $(grep -E 'loss|error' "$out/ping-bulk.txt")"
result "bulk ping a -> b: $(grep loss "$out/ping-bulk.txt")"
grep -q "soft byte lifetime" "$out/a.log" || fail "initiator saw no soft byte lifetime"
result "initiator: $(grep -m1 'soft byte lifetime' "$out/a.log" | sed 's/^.*INFO //')"
spis=$(grep 'IPsec-SA established' "$out/a.log" | grep -o ' spi=[0-9]\+' | sort -u | wc -l)
[ "$spis" -ge 4 ] || fail "no rekey: $spis distinct SPIs in the initiator's IPsec-SA lines"
result "initiator rekeyed: $spis distinct SPIs"
ip netns exec "$ns_a" "$TANUKI" status --socket "$out/a.sock" >"$out/status-a.txt" || fail "status a"
grep -q "IPsec-SA ESP/Tunnel" "$out/status-a.txt" || fail "status a: $(cat "$out/status-a.txt")"
result "status a: $(grep -m1 'IPsec-SA' "$out/status-a.txt" | sed 's/^ *//')"

kill -TERM "$pid_a"
interop_wait_for 50 "initiator exit" sh -c "! kill -0 $pid_a 2>/dev/null || grep -q 'tanuki stopped' '$out/a.log'" || true
interop_wait_for 50 "responder sees the Deletes" grep -q "IPsec-SA deleted.*peer sent a Delete" "$out/b.log" ||
    fail "responder did not process the Delete: $(tail -3 "$out/b.log")"
result "responder: $(grep -m1 'IPsec-SA deleted' "$out/b.log" | sed 's/^.*INFO //')"
interop_wait_for 50 "responder drops the ISAKMP-SA" grep -q "ISAKMP-SA deleted.*deleted by peer" "$out/b.log" ||
    fail "responder kept the ISAKMP-SA"
result "responder: $(grep -m1 'ISAKMP-SA deleted' "$out/b.log" | sed 's/^.*INFO //')"
kill -TERM "$pid_b" 2>/dev/null || true
result "PASS"
