#!/usr/bin/env bash
# Seed 000 between two tanukis: "pix" (10.99.0.2) plays the Cisco PIX, which
# identifies itself by its address (ID_IPV4_ADDR) but signs with a
# certificate that has no subjectAltName IP (tests/interop/pki/pix.pem);
# "ours" (10.99.0.1, pki/tanuki.pem) is the seed's Linux router. charon
# cannot play the PIX: it will not sign with an ID its certificate lacks.
#
#   TANUKI=path/to/tanuki tests/interop/scenarios/tanuki-pix-pair.sh OUTDIR ROLE CHECK
#
# ROLE   initiator | responder: our side's Phase 1 role
# CHECK  strict:  verify_cert on; ours must refuse the PIX, and say why
#        relaxed: verify_cert off with the PIX's certificate pinned
#                 (peers_certfile); both sides must establish the ISAKMP-SA
#
# Prints "RESULT: ..." lines; exits 0 when the expectation held.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
source "$here/lib.sh"
: "${TANUKI:?}"
out=${1:?OUTDIR} role=${2:?ROLE} check=${3:?CHECK}
mkdir -p "$out"
pki=$here/pki
result() { echo "RESULT: $*"; }
fail() { result "FAIL $*"; exit 1; }

interop_init
ns_ours=tkx-$$-a ns_pix=tkx-$$-b
interop_netns_pair "$ns_ours" "$ns_pix"

# write_conf FILE LISTEN PEER PASSIVE CERT EXTRA_AUTH_LINES
write_conf() {
    cat >"$1" <<CONF
listen = "$2"
phase1_timeout = 8

[[peer]]
address = "$3"
mode = "main"
proposals = ["aes256-sha1-modp1536"]
lifetime = 86400
nat_traversal = "off"
passive = $4

[peer.auth]
authentication_method = "rsasig"
certificate_type = ["x509", "$pki/$5.pem", "$pki/$5.key"]
ca_file = "$pki/ca.pem"
my_identifier = "address"
peers_identifier = "address"
verify_identifier = "on"
$6

[[peer.child]]
local = "10.99.1.0/24"
remote = "10.99.2.0/24"
esp = ["aes256-sha1"]
CONF
}
ours_passive=false pix_passive=true
[ "$role" = responder ] && { ours_passive=true; pix_passive=false; }
case $check in
    strict) ours_extra='verify_cert = "on"' ;;
    relaxed) ours_extra="verify_cert = \"off\"
peers_certfile = [\"x509\", \"$pki/pix.pem\"]" ;;
    *) fail "CHECK must be strict or relaxed" ;;
esac
write_conf "$out/ours.toml" "$INTEROP_ADDR_A" "$INTEROP_ADDR_B" "$ours_passive" tanuki "$ours_extra"
write_conf "$out/pix.toml" "$INTEROP_ADDR_B" "$INTEROP_ADDR_A" "$pix_passive" pix 'verify_cert = "on"'

# The passive side first, so the initiator's MM1 finds it listening.
start() { # NS NAME
    interop_spawn "$1" "$out/$2.log" env RUST_LOG=info "$TANUKI" run --config "$out/$2.toml"
    interop_wait_for 50 "tanuki $2" grep -qs "tanuki started" "$out/$2.log" ||
        fail "$2 did not start: $(cat "$out/$2.log")"
}
if [ "$role" = initiator ]; then
    start "$ns_pix" pix
    start "$ns_ours" ours
else
    start "$ns_ours" ours
    start "$ns_pix" pix
fi

if [ "$check" = strict ]; then
    interop_wait_for 150 "our refusal" grep -qs "negotiation failed with" "$out/ours.log" ||
        fail "ours logged no failure: $(tail -5 "$out/ours.log")"
    result "ours: $(grep -m1 'negotiation failed with' "$out/ours.log" | sed 's/^.*ERROR //')"
    grep -q "ISAKMP-SA established" "$out/ours.log" && fail "ours established an ISAKMP-SA with the PIX"
else
    for side in ours pix; do
        interop_wait_for 150 "$side ISAKMP-SA" grep -qs "ISAKMP-SA established" "$out/$side.log" ||
            fail "$side: no ISAKMP-SA: $(grep -E 'ERROR|WARN' "$out/$side.log" | head -3)"
        result "$side: $(grep -m1 'ISAKMP-SA established' "$out/$side.log" | sed 's/^.*INFO //')"
    done
fi
result "PASS"
