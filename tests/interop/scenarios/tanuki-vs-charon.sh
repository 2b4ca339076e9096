#!/usr/bin/env bash
# One tanuki-vs-charon scenario, run as the CMD of with-charon.sh (so inside
# the "local" namespace, with the INTEROP_* variables set):
#
#   tests/interop/with-charon.sh --ike P1 --esp P2 [--mode aggressive] --out DIR -- \
#       tests/interop/scenarios/tanuki-vs-charon.sh
#
# Our side is configured from TANUKI_* variables:
#   TANUKI          the tanuki binary (required)
#   TANUKI_OUT      directory for tanuki.toml, tanuki.log, status.txt (required)
#   TANUKI_ROLE     initiator | responder [initiator]
#   TANUKI_MODE     main | aggressive [main]
#   TANUKI_IKE      our Phase 1 proposal [aes128-sha1-modp2048]
#   TANUKI_ESP      our ESP transform [aes128-sha1]
#   TANUKI_PFS      our PFS group, e.g. modp2048 [none]
#   TANUKI_PSK      our PSK [$INTEROP_PSK]
#   TANUKI_LIFETIME our IPsec SA lifetime in s [3600]
#   TANUKI_IKE_LIFETIME our ISAKMP SA lifetime in s [86400]
#   TANUKI_PHASE1_TIMEOUT s before a silent/refusing peer counts as failed [15]
#   TANUKI_NATT     on | off | force [on]
#   TANUKI_EXPECT   up | fail [up]
#   TANUKI_REKEYS   for up: wait for this many further IPsec SAs (rekeys) [0]
#   TANUKI_REKEY_PING  s of continuous ping across the rekey(s)
#                   [TANUKI_LIFETIME + 4]
#   TANUKI_OLD_SA_DELETED  1: before our SIGTERM, the rekeyed SA pair must be
#                   deleted (by charon's Delete or our expiry) [0]
#   TANUKI_AUTH     psk | rsasig [psk]; rsasig writes a [peer.auth] table
#                   with the certificates of $INTEROP_PKI (with-charon.sh
#                   --auth pubkey) and these racoon options:
#   TANUKI_CERT     our certificate and key, $INTEROP_PKI/NAME.{pem,key} [tanuki]
#   TANUKI_MY_IDENTIFIER     [address]        e.g. asn1dn
#   TANUKI_PEERS_IDENTIFIER  [address]        e.g. asn1dn
#   TANUKI_VERIFY_IDENTIFIER [on]
#   TANUKI_VERIFY_CERT       [on]
#   TANUKI_PEERS_CERTFILE    pin charon's certificate $INTEROP_PKI/NAME.pem [none]
#
# Prints "RESULT: ..." lines and exits 0 when the expectation held: for "up",
# both sides report the SA and, after tanuki's SIGTERM, both sides processed
# the Deletes; for "fail", tanuki logged a negotiation failure.
set -euo pipefail

: "${TANUKI:?}" "${TANUKI_OUT:?}"
role=${TANUKI_ROLE:-initiator}
expect=${TANUKI_EXPECT:-up}
rekeys=${TANUKI_REKEYS:-0}
out=$TANUKI_OUT
mkdir -p "$out"
vici=$INTEROP_CHARON_VICI
state=${vici#unix://}
state=${state%/run/charon.vici}

passive=false
[ "$role" = responder ] && passive=true
pfs_line=""
[ -n "${TANUKI_PFS:-}" ] && pfs_line="pfs = \"$TANUKI_PFS\""
# Phase 1 credentials: PSK lines in [[peer]], or a [peer.auth] table.
if [ "${TANUKI_AUTH:-psk}" = rsasig ]; then
    : "${INTEROP_PKI:?TANUKI_AUTH=rsasig needs with-charon.sh --auth pubkey}"
    cert=${TANUKI_CERT:-tanuki}
    credentials=""
    pin_line=""
    [ -n "${TANUKI_PEERS_CERTFILE:-}" ] &&
        pin_line="peers_certfile = [\"x509\", \"$INTEROP_PKI/$TANUKI_PEERS_CERTFILE.pem\"]"
    auth_table="
[peer.auth]
authentication_method = \"rsasig\"
certificate_type = [\"x509\", \"$INTEROP_PKI/$cert.pem\", \"$INTEROP_PKI/$cert.key\"]
ca_file = \"$INTEROP_CA\"
my_identifier = \"${TANUKI_MY_IDENTIFIER:-address}\"
peers_identifier = \"${TANUKI_PEERS_IDENTIFIER:-address}\"
verify_identifier = \"${TANUKI_VERIFY_IDENTIFIER:-on}\"
verify_cert = \"${TANUKI_VERIFY_CERT:-on}\"
$pin_line
"
else
    credentials="my_id = \"$INTEROP_LOCAL_ID\"
peer_id = \"$INTEROP_PEER_ID\"
psk = \"${TANUKI_PSK:-$INTEROP_PSK}\""
    auth_table=""
fi
cat >"$out/tanuki.toml" <<CONF
listen = "$INTEROP_LOCAL"
status_socket = "$out/tanuki.sock"
phase1_timeout = ${TANUKI_PHASE1_TIMEOUT:-15}
phase2_timeout = 15
tun = "tanuki0"
tun_source = "$INTEROP_LOCAL_INNER"

[[peer]]
address = "$INTEROP_PEER"
mode = "${TANUKI_MODE:-main}"
$credentials
proposals = ["${TANUKI_IKE:-aes128-sha1-modp2048}"]
lifetime = ${TANUKI_IKE_LIFETIME:-86400}
proposal_check = "obey"
nat_traversal = "${TANUKI_NATT:-on}"
passive = $passive
$auth_table
[[peer.child]]
local = "$INTEROP_LOCAL_TS"
remote = "$INTEROP_PEER_TS"
esp = ["${TANUKI_ESP:-aes128-sha1}"]
lifetime = ${TANUKI_LIFETIME:-3600}
$pfs_line
CONF

result() { echo "RESULT: $*"; }
fail() { result "FAIL $*"; exit 1; }
swan() { STRONGSWAN_CONF=$state/strongswan.conf timeout 20 swanctl "$@" --uri "$vici"; }

RUST_LOG=${RUST_LOG:-info} "$TANUKI" run --config "$out/tanuki.toml" >"$out/tanuki.log" 2>&1 &
tanuki_pid=$!
stop_tanuki() {
    if kill -0 "$tanuki_pid" 2>/dev/null; then
        kill -TERM "$tanuki_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$tanuki_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$tanuki_pid" 2>/dev/null || true
    fi
    wait "$tanuki_pid" 2>/dev/null || true
}
trap stop_tanuki EXIT

# wait_log PATTERN COUNT TENTHS: until tanuki.log has COUNT lines matching PATTERN.
wait_log() {
    local i
    for ((i = 0; i < $3; i++)); do
        [ "$(grep -c -E "$1" "$out/tanuki.log" || true)" -ge "$2" ] && return 0
        grep -q -E "negotiation failed" "$out/tanuki.log" && [ "$expect" = up ] && return 1
        kill -0 "$tanuki_pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

wait_log "tanuki started" 1 50 || fail "tanuki did not start: $(cat "$out/tanuki.log")"
if [ "$role" = responder ]; then
    swan --initiate --child c --timeout 15 >"$out/initiate.txt" 2>&1 &
fi

if [ "$expect" = fail ]; then
    wait_log "negotiation failed with" 1 300 || fail "no failure logged"
    result "tanuki: $(grep -m1 'negotiation failed with' "$out/tanuki.log" | sed 's/^.*ERROR //')"
    result "PASS"
    exit 0
fi

# Each SA pair logs two "IPsec-SA established: ESP/..." lines (in and out);
# the engine's own "IPsec-SA established remote=..." line is not counted.
wait_log "ISAKMP-SA established" 1 300 || fail "no ISAKMP-SA: $(grep -E 'ERROR|WARN' "$out/tanuki.log" | head -3)"
result "tanuki: $(grep -m1 'ISAKMP-SA established' "$out/tanuki.log" | sed 's/^.*INFO //')"
child_up=yes
if [ "$role" = responder ]; then
    # charon initiates Quick Mode; without NAT-T libipsec cannot install the
    # SA, and charon then answers QM2 with NO-PROPOSAL-CHOSEN, not QM3.
    for _ in $(seq 150); do
        [ "$(grep -c 'IPsec-SA established: ESP/' "$out/tanuki.log" || true)" -ge 2 ] && break
        grep -q "only UDP encapsulation is supported" "$state/charon.log" && { child_up=no; break; }
        sleep 0.1
    done
fi
if [ "$child_up" = yes ]; then
    wait_log "IPsec-SA established: ESP/" 2 300 || fail "no IPsec-SA: $(grep -E 'ERROR|WARN' "$out/tanuki.log" | head -3)"
    result "tanuki: $(grep -m1 'IPsec-SA established: ESP/' "$out/tanuki.log" | sed 's/^.*INFO //')"
else
    result "charon: QM1 sent, QM2 from tanuki accepted ($(grep -m1 'selected proposal: ESP' "$state/charon.log" | sed 's/^.*\] //')), then: IPsec SA: only UDP encapsulation is supported"
    result "PENDING: IPsec SA as responder: charon withholds QM3 because libipsec cannot install an SA without NAT-T (RFC 3947, not in ike-core yet)"
fi
if [ "$rekeys" -gt 0 ]; then
    # Ping all through the rekey: not one echo may be lost.
    ping -n -q -W 2 -I "$INTEROP_LOCAL_INNER" -i 0.2 -w "${TANUKI_REKEY_PING:-$((TANUKI_LIFETIME + 4))}" "$INTEROP_PEER_INNER" \
        >"$out/ping-rekey.txt" 2>&1 &
    rekey_ping=$!
    wait_log "IPsec-SA established: ESP/" $((2 + 2 * rekeys)) $((600 + 300 * rekeys)) ||
        fail "no rekey within the wait"
    result "tanuki: rekeyed $rekeys time(s): $(grep -c 'IPsec-SA established: ESP/' "$out/tanuki.log") IPsec-SA lines"
    wait "$rekey_ping" || true
    grep -q " 0% packet loss" "$out/ping-rekey.txt" ||
        fail "pings lost across the rekey: $(grep -E 'loss|error' "$out/ping-rekey.txt")"
    result "ping across the rekey: $(grep loss "$out/ping-rekey.txt")"
    if [ "${TANUKI_OLD_SA_DELETED:-0}" = 1 ]; then
        wait_log "IPsec-SA deleted" 1 100 || fail "the rekeyed IPsec SA was not deleted"
        result "tanuki: old SA gone: $(grep -m1 'IPsec-SA deleted' "$out/tanuki.log" | sed 's/^.*INFO //')"
    fi
fi

"$TANUKI" status --socket "$out/tanuki.sock" >"$out/status.txt" 2>&1 || fail "tanuki status: $(cat "$out/status.txt")"
grep -q "^ISAKMP-SA" "$out/status.txt" || fail "tanuki status shows no ISAKMP-SA: $(cat "$out/status.txt")"
result "tanuki status: $(grep -m1 '^ISAKMP-SA' "$out/status.txt")"
if [ "$child_up" = yes ]; then
    grep -q "IPsec-SA ESP/Tunnel" "$out/status.txt" || fail "tanuki status shows no IPsec-SA: $(cat "$out/status.txt")"
    result "tanuki status: $(grep -m1 'IPsec-SA' "$out/status.txt" | sed 's/^ *//')"
fi

# charon's view: the IKE SA must be ESTABLISHED; the CHILD_SA is INSTALLED
# only when libipsec could take it (it needs UDP encapsulation, i.e. NAT-T).
for _ in $(seq 50); do
    swan --list-sas >"$out/charon-sas.txt" 2>&1 || true
    grep -q ESTABLISHED "$out/charon-sas.txt" && break
    sleep 0.1
done
grep -q ESTABLISHED "$out/charon-sas.txt" || fail "charon lists no established IKE SA: $(cat "$out/charon-sas.txt")"
result "charon: $(grep -m1 ESTABLISHED "$out/charon-sas.txt" | sed 's/^ *//')"
if grep -q INSTALLED "$out/charon-sas.txt"; then
    result "charon: CHILD_SA INSTALLED"
else
    result "charon: CHILD_SA not installed: $(grep -m1 -E 'unable to install|failed to install|no acceptable' "$state/charon.log" | sed 's/^.*\] //' || echo '?')"
fi
# ICMP echo both ways between the inner addresses, through both ESP stacks.
ping_ok() { # NS-or-empty SRC DST COUNT INTERVAL
    local ns=$1
    shift
    if [ -n "$ns" ]; then
        ip netns exec "$ns" ping -n -q -W 2 -I "$1" -c "$3" -i "$4" "$2"
    else
        ping -n -q -W 2 -I "$1" -c "$3" -i "$4" "$2"
    fi
}
if [ "$child_up" = yes ] && grep -q INSTALLED "$out/charon-sas.txt"; then
    ping_ok "" "$INTEROP_LOCAL_INNER" "$INTEROP_PEER_INNER" 3 0.2 >"$out/ping-out.txt" 2>&1 ||
        fail "ping $INTEROP_LOCAL_INNER -> $INTEROP_PEER_INNER: $(grep -E 'loss|error' "$out/ping-out.txt")"
    result "ping tanuki side -> charon side: $(grep loss "$out/ping-out.txt")"
    ping_ok "$INTEROP_PEER_NS" "$INTEROP_PEER_INNER" "$INTEROP_LOCAL_INNER" 3 0.2 >"$out/ping-in.txt" 2>&1 ||
        fail "ping $INTEROP_PEER_INNER -> $INTEROP_LOCAL_INNER: $(grep -E 'loss|error' "$out/ping-in.txt")"
    result "ping charon side -> tanuki side: $(grep loss "$out/ping-in.txt")"
else
    result "PENDING: ping through the tunnel: no CHILD_SA installed on both sides"
fi

stop_tanuki
trap - EXIT
if [ "$child_up" = yes ]; then
    grep -q "IPsec-SA deleted" "$out/tanuki.log" || fail "tanuki logged no IPsec-SA deletion"
fi
grep -q "ISAKMP-SA deleted" "$out/tanuki.log" || fail "tanuki logged no ISAKMP-SA deletion"
for _ in $(seq 50); do
    grep -q "received DELETE for IKE_SA" "$state/charon.log" && break
    sleep 0.1
done
grep -q "received DELETE for IKE_SA" "$state/charon.log" || fail "charon did not log our ISAKMP Delete"
result "charon: $(grep -m1 'received DELETE for IKE_SA' "$state/charon.log" | sed 's/^.*\] //')"
swan --list-sas >"$out/charon-sas-after.txt" 2>&1 || true
grep -q ESTABLISHED "$out/charon-sas-after.txt" && fail "charon still lists the IKE SA after our Delete"
result "PASS"
