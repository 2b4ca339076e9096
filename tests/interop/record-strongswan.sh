#!/usr/bin/env bash
# Regenerates ike-core/tests/data/strongswan/: charon <-> charon IKEv1 runs,
# captured on the wire, with the keys both charons logged.
#
#   sudo tests/interop/record-strongswan.sh            # every scenario
#   sudo tests/interop/record-strongswan.sh NAME...    # only these
#   tests/interop/record-strongswan.sh --list
#
# Run by hand (root, strongSwan installed: see .ci/install-packages); CI only
# reads the checked-in files. Each scenario runs in fresh namespaces.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${RECORD_OUT:-$repo/ike-core/tests/data/strongswan}
out_rsa=${RECORD_OUT:-$repo/examples/tests/data/strongswan-rsa}
pki=$here/pki
PSK=${RECORD_PSK:-ipsec-rs interop psk}

# name | mode | IKE proposal | ESP proposal (a DH group here = PFS) | initiator
# overrides, `;`-separated: ike=, esp=, psk= (what the initiator is configured
# with when it differs from the responder), expect=fail, dpd=DELAY (both
# sides), idle=SECONDS (wait before the teardown) and child2=yes (a second
# CHILD_SA, 10.99.3.0/24 <-> 10.99.4.0/24, by its own Quick Mode),
# auth=pubkey (RSA signatures: the initiator, at 10.99.0.1, signs with
# tests/interop/pki/tanuki.pem, the responder with charon.pem; both trust
# pki/ca.pem), ids=dn (ASN.1 DN IDs instead of addresses) and frag=no
# (no IKE fragmentation: whole messages, on a 9000-byte MTU link) | what it shows
#
# RSA recordings go to RECORD_OUT [examples/tests/data/strongswan-rsa]: the
# PSK recordings' directory is read by tests that expect a PSK in every file.
SCENARIOS=(
    "mm-aes128-sha1-modp2048|main|aes128-sha1-modp2048|aes128-sha1||Main Mode, AES-128/SHA-1/MODP-2048, no PFS"
    "mm-aes256-sha256-modp2048-pfs|main|aes256-sha256-modp2048|aes256-sha256-modp2048||Main Mode, AES-256/SHA-256, PFS with MODP-2048"
    "mm-3des-md5-modp1024|main|3des-md5-modp1024|3des-md5||Main Mode, 3DES/MD5/MODP-1024 (legacy), no PFS"
    "mm-aes128-sha1-modp1536-pfs|main|aes128-sha1-modp1536|aes128-sha1-modp1536||Main Mode, AES-128/SHA-1/MODP-1536, PFS"
    "mm-aes256-sha384-ecp256-pfs|main|aes256-sha384-ecp256|aes256-sha384-ecp256||Main Mode, AES-256/SHA-384/ECP-256 (group 19), PFS with ECP-256"
    "mm-aes128-sha256-modp2048-gcm|main|aes128-sha256-modp2048|aes128gcm16||Main Mode, ESP AES-GCM-16 (128), no PFS"
    "am-aes128-sha1-modp1024|aggressive|aes128-sha1-modp1024|aes128-sha1||Aggressive Mode, AES-128/SHA-1/MODP-1024, no PFS"
    "am-aes256-sha256-modp2048-pfs|aggressive|aes256-sha256-modp2048|aes256-sha256-modp2048||Aggressive Mode, AES-256/SHA-256/MODP-2048, PFS"
    "am-3des-sha1-modp1536|aggressive|3des-sha1-modp1536|3des-sha1||Aggressive Mode, 3DES/SHA-1/MODP-1536, no PFS"
    "mm-multi-proposal|main|aes128-sha1-modp1024|aes128-sha1|ike=aes256-sha256-modp2048,aes128-sha1-modp1024;esp=aes256-sha256,aes128-sha1|Main Mode: the initiator offers two IKE and two ESP proposals, the responder accepts the second of each"
    "mm-wrong-psk|main|aes128-sha1-modp2048|aes128-sha1|psk=not the responder's psk;expect=fail|Main Mode with different PSKs: the responder cannot decrypt message 5"
    "mm-aes128-sha1-modp2048-dpd|main|aes128-sha1-modp2048|aes128-sha1|dpd=1s;idle=3|Main Mode with RFC 3706 DPD every second on both sides: R-U-THERE / R-U-THERE-ACK Informationals while idle"
    "mm-aes128-sha1-modp2048-two-children|main|aes128-sha1-modp2048|aes128-sha1-modp2048|child2=yes|Main Mode, then two Quick Modes (PFS, MODP-2048) on the same ISAKMP SA: 10.99.1.0/24-10.99.2.0/24 and 10.99.3.0/24-10.99.4.0/24"
    "mm-no-proposal-chosen|main|aes256-sha512-modp4096|aes256-sha256|ike=aes128-sha1-modp1024;expect=fail|Main Mode 1 with a proposal the responder refuses: answered by an unencrypted Informational NO-PROPOSAL-CHOSEN"
    "mm-rsa-aes256-sha1-modp1536|main|aes256-sha1-modp1536|aes256-sha1|auth=pubkey|Main Mode with RSA signatures (seed 000's algorithms), address IDs proven by subjectAltName IP; certificates tests/interop/pki/{tanuki,charon}.pem"
    "am-rsa-aes128-sha256-modp2048|aggressive|aes128-sha256-modp2048|aes128-sha1|auth=pubkey;ids=dn;frag=no|Aggressive Mode with RSA signatures, ASN.1 DN IDs, IKE fragmentation off (message 2 is 1.4 kB); certificates tests/interop/pki/{tanuki,charon}.pem"
)

if [ "${1:-}" = --list ]; then
    printf '%s\n' "${SCENARIOS[@]}" | cut -d'|' -f1
    exit 0
fi

# shellcheck source=lib.sh
source "$here/lib.sh"

strongswan_version=$("$INTEROP_CHARON" --version 2>&1 | awk '/strongSwan/ {print $NF; exit}')

# record_one LINE: one scenario, in a subshell so its EXIT trap cleans up.
record_one() (
    IFS='|' read -r name mode ike esp overrides summary <<<"$1"
    local ike_i=$ike esp_i=$esp psk_i=$PSK expect_failure=false kv dpd=0s idle=0 child2=no
    local auth=psk ids=default dest=$out frag=yes
    local -a extra_json=()
    IFS=';' read -r -a kvs <<<"$overrides"
    for kv in "${kvs[@]}"; do
        case $kv in
            ike=*) ike_i=${kv#ike=} ;;
            esp=*) esp_i=${kv#esp=}; extra_json+=("\"esp_proposal_initiator\": \"$esp_i\",") ;;
            psk=*) psk_i=${kv#psk=}; extra_json+=("\"psk_initiator\": \"$psk_i\",") ;;
            expect=fail) expect_failure=true ;;
            dpd=*) dpd=${kv#dpd=}; extra_json+=("\"dpd_delay\": \"$dpd\",") ;;
            idle=*) idle=${kv#idle=}; extra_json+=("\"idle_before_teardown_s\": $idle,") ;;
            auth=pubkey) auth=pubkey dest=$out_rsa; extra_json+=("\"auth\": \"pubkey\", \"certificates\": {\"initiator\": \"tests/interop/pki/tanuki.pem\", \"responder\": \"tests/interop/pki/charon.pem\", \"ca\": \"tests/interop/pki/ca.pem\"},") ;;
            ids=dn) ids=dn ;;
            frag=no) frag=no; extra_json+=("\"fragmentation\": \"no\",") ;;
            child2=yes) child2=yes; extra_json+=("\"second_child\": {\"initiator_ts\": \"10.99.3.0/24\", \"responder_ts\": \"10.99.4.0/24\"},") ;;
            *) interop_die "$name: bad override '$kv'" ;;
        esac
    done
    interop_init
    local ns_i=ipsr-$$-i ns_r=ipsr-$$-r
    interop_netns_pair "$ns_i" "$ns_r"
    local si=$INTEROP_RUN/initiator sr=$INTEROP_RUN/responder
    if [ "$frag" = no ]; then
        # Whole messages over 1500 bytes: a jumbo MTU keeps them in one IP
        # packet, since the capture reader does not reassemble IP fragments.
        ip -n "$ns_i" link set veth0 mtu 9000
        ip -n "$ns_r" link set veth0 mtu 9000
    fi
    local -a child2_i=() child2_r=()
    if [ "$child2" = yes ]; then
        ip -n "$ns_i" addr add 10.99.3.1/32 dev lo
        ip -n "$ns_r" addr add 10.99.4.1/32 dev lo
        child2_i=(child2_local_ts=10.99.3.0/24 child2_remote_ts=10.99.4.0/24)
        child2_r=(child2_local_ts=10.99.4.0/24 child2_remote_ts=10.99.3.0/24)
    fi
    local id_i id_r
    local -a auth_i=() auth_r=()
    if [ "$auth" = pubkey ]; then
        interop_swanctl_pki "$si" "$pki/tanuki.pem" "$pki/tanuki.key" "$pki/ca.pem"
        interop_swanctl_pki "$sr" "$pki/charon.pem" "$pki/charon.key" "$pki/ca.pem"
        auth_i=(auth=pubkey cert=tanuki.pem) auth_r=(auth=pubkey cert=charon.pem)
    fi
    if [ "$ids" = dn ]; then
        # The subjects of pki/tanuki.pem and pki/charon.pem, in certificate order.
        id_i="C=XX, O=ipsec-rs Interop, CN=tanuki.interop.test"
        id_r="C=XX, O=ipsec-rs Interop, CN=charon.interop.test"
    elif [ "$mode" = aggressive ] && [ "$auth" = psk ]; then
        # Aggressive Mode sends IDs in the clear in message 1: use FQDNs.
        id_i=initiator.interop.test id_r=responder.interop.test
    else
        id_i=$INTEROP_ADDR_A id_r=$INTEROP_ADDR_B
    fi
    interop_swanctl_conf "$si/swanctl/swanctl.conf" mode="$mode" \
        local="$INTEROP_ADDR_A" remote="$INTEROP_ADDR_B" local_id="$id_i" remote_id="$id_r" \
        psk="$psk_i" proposals="$ike_i" esp_proposals="$esp_i" dpd_delay="$dpd" \
        local_ts="$INTEROP_NET_A" remote_ts="$INTEROP_NET_B" "${child2_i[@]}" "${auth_i[@]}" fragmentation=$frag
    interop_swanctl_conf "$sr/swanctl/swanctl.conf" mode="$mode" \
        local="$INTEROP_ADDR_B" remote="$INTEROP_ADDR_A" local_id="$id_r" remote_id="$id_i" \
        psk="$PSK" proposals="$ike" esp_proposals="$esp" dpd_delay="$dpd" \
        local_ts="$INTEROP_NET_B" remote_ts="$INTEROP_NET_A" "${child2_r[@]}" "${auth_r[@]}" fragmentation=$frag

    interop_capture_start "$ns_i" "$INTEROP_RUN/capture.pcap"
    interop_charon_start "$sr" "$ns_r"
    local pid_r=$INTEROP_LAST_PID
    interop_charon_start "$si" "$ns_i"
    local pid_i=$INTEROP_LAST_PID

    if interop_swanctl "$si" --initiate --child c --timeout 20 >"$INTEROP_RUN/initiate.log" 2>&1; then
        $expect_failure && interop_die "$name: initiate succeeded, expected a failure"
        if [ "$child2" = yes ]; then
            # A second Quick Mode on the same ISAKMP SA.
            interop_swanctl "$si" --initiate --child c2 --timeout 20 >>"$INTEROP_RUN/initiate.log" 2>&1 ||
                { cat "$INTEROP_RUN/initiate.log" >&2; interop_die "$name: second child failed"; }
        fi
        interop_swanctl "$si" --list-sas >"$INTEROP_RUN/list-sas.log"
        grep -q INSTALLED "$INTEROP_RUN/list-sas.log" ||
            { cat "$INTEROP_RUN/list-sas.log" >&2; interop_die "$name: CHILD_SA not installed"; }
        # A little traffic through the tunnel so the capture holds ESP in
        # both directions (UDP to a closed port -> ICMP port unreachable).
        ip netns exec "$ns_i" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$INTEROP_INNER_A', 0))
for i in range(2):
    s.sendto(b'ipsec-rs interop %d' % i, ('$INTEROP_INNER_B', 9))
"
        sleep 0.5
        sleep "$idle"
        interop_swanctl "$si" --terminate --ike c --timeout 10 >"$INTEROP_RUN/terminate.log" 2>&1 ||
            interop_log "$name: terminate reported an error"
        sleep 0.3
    else
        $expect_failure || { cat "$INTEROP_RUN/initiate.log" >&2; interop_die "$name: initiate failed"; }
        sleep 0.3
    fi
    interop_capture_stop
    interop_stop "$pid_i"
    interop_stop "$pid_r"

    python3 - "$INTEROP_RUN/scenario.json" <<PY
import json, sys
json.dump({
    "name": "$name",
    "strongswan_version": "$strongswan_version",
    "summary": "$summary",
    "mode": "$mode",
    "psk": "$PSK",
    "ike_proposal": "$ike",
    "ike_proposal_initiator": "$ike_i",
    ${extra_json[*]}
    "esp_proposal": "$esp",
    "expect_failure": $( $expect_failure && echo True || echo False ),
    "ike_lifetime_s": 7800,
    "ike_lifetime_note": "rekey_time 2h + over_time 10m, rand_time 0: what IKEv1 puts on the wire",
    "esp_lifetime_s": 3600,
    "initiator": {"address": "$INTEROP_ADDR_A", "id": "$id_i", "ts": "$INTEROP_NET_A", "port": 500},
    "responder": {"address": "$INTEROP_ADDR_B", "id": "$id_r", "ts": "$INTEROP_NET_B", "port": 500},
}, open(sys.argv[1], "w"), indent=1)
PY
    python3 "$here/charon_extract.py" --scenario "$INTEROP_RUN/scenario.json" \
        --pcap "$INTEROP_RUN/capture.pcap" \
        --initiator-log "$si/charon.log" --responder-log "$sr/charon.log" \
        --out "$dest" --messages "$dest/messages"
)

selected=("$@")
mkdir -p "$out" "$out_rsa"
for line in "${SCENARIOS[@]}"; do
    name=${line%%|*}
    if [ ${#selected[@]} -gt 0 ] && ! printf '%s\n' "${selected[@]}" | grep -qx "$name"; then
        continue
    fi
    interop_log "recording $name"
    record_one "$line"
done
