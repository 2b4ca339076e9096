#!/usr/bin/env bash
# Runs a command as the peer of a strongSwan charon, in throw-away
# namespaces: the building block of the daemon-vs-charon suite.
#
#   tests/interop/with-charon.sh [options] -- CMD [ARGS...]
#
# charon runs in namespace "peer" (10.99.0.2, traffic selector 10.99.2.0/24);
# CMD runs in namespace "local" (10.99.0.1, 10.99.1.0/24) with:
#   INTEROP_LOCAL / INTEROP_PEER         outer addresses
#   INTEROP_LOCAL_TS / INTEROP_PEER_TS   traffic selectors (subnets)
#   INTEROP_LOCAL_INNER / INTEROP_PEER_INNER   first host of each, on lo
#   INTEROP_LOCAL_ID / INTEROP_PEER_ID   the IDs charon expects / uses
#   INTEROP_PSK                          the pre-shared key
#   INTEROP_PEER_NS                      charon's namespace (to ping from its side)
#   INTEROP_CHARON_VICI                  charon's vici URI, e.g. for
#                                        `swanctl --initiate --child c --uri "$INTEROP_CHARON_VICI"`
# and exits with CMD's status. The connection and its child are named "c".
#
# Options:
#   --mode main|aggressive   Phase 1 exchange [main]
#   --ike PROPOSAL           charon's IKE proposal [aes128-sha1-modp2048]
#   --esp PROPOSAL           charon's ESP proposal, a group = PFS [aes128-sha1]
#   --psk PSK                [ipsec-rs interop psk]
#   --local-id ID --peer-id ID   [the outer addresses]
#   --out DIR                keep charon.log, swanctl.conf, ike.pcap,
#                            list-sas.txt, charon.pid there
#   --child-rekey-time T --child-life-time T   charon's CHILD_SA rekey_time
#                            and life_time, e.g. 10s and 60s [50m, 1h]
#   --delete-rekeyed         charon deletes a CHILD_SA as soon as it is
#                            rekeyed (charon.delete_rekeyed), not at its expiry
#   --no-capture             skip tcpdump
#   --auth psk|pubkey        Phase 1 authentication [psk]; pubkey = RSA
#                            signatures with tests/interop/pki (both sides
#                            trust pki/ca.pem)
#   --charon-cert NAME       charon's certificate and key, pki/NAME.pem and
#                            pki/NAME.key [charon]; e.g. charon-big (2048 bits,
#                            Main Mode 6 over fragment_size)
#   --fragmentation yes|no|force   charon's IKE fragmentation [yes: when the
#                            peer announces it]; charon.fragment_size stays
#                            at its default (1280)
#
# With --auth pubkey the PKI's paths are passed on as INTEROP_PKI (the
# directory), INTEROP_CA (pki/ca.pem) and INTEROP_AUTH=pubkey.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

mode=main ike=aes128-sha1-modp2048 esp=aes128-sha1 psk="ipsec-rs interop psk"
local_id="" peer_id="" out="" capture=yes child_rekey_time=50m child_life_time=1h
auth=psk charon_cert=charon fragmentation=yes pki=$here/pki
while [ $# -gt 0 ]; do
    case $1 in
        --mode) mode=$2; shift 2 ;;
        --ike) ike=$2; shift 2 ;;
        --esp) esp=$2; shift 2 ;;
        --psk) psk=$2; shift 2 ;;
        --local-id) local_id=$2; shift 2 ;;
        --peer-id) peer_id=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --child-rekey-time) child_rekey_time=$2; shift 2 ;;
        --child-life-time) child_life_time=$2; shift 2 ;;
        --delete-rekeyed) export INTEROP_CHARON_DELETE_REKEYED=yes; shift ;;
        --no-capture) capture=no; shift ;;
        --auth) auth=$2; shift 2 ;;
        --charon-cert) charon_cert=$2; shift 2 ;;
        --fragmentation) fragmentation=$2; shift 2 ;;
        --) shift; break ;;
        *) interop_die "unknown option $1 (see the header of $0)" ;;
    esac
done
[ $# -gt 0 ] || interop_die "no command given after --"
local_id=${local_id:-$INTEROP_ADDR_A}
peer_id=${peer_id:-$INTEROP_ADDR_B}

interop_init
ns_local=ipsw-$$-local ns_peer=ipsw-$$-peer
interop_netns_pair "$ns_local" "$ns_peer"
state=$INTEROP_RUN/charon
auth_args=()
if [ "$auth" = pubkey ]; then
    interop_swanctl_pki "$state" "$pki/$charon_cert.pem" "$pki/$charon_cert.key" "$pki/ca.pem"
    auth_args=(auth=pubkey "cert=$charon_cert.pem")
fi
interop_swanctl_conf "$state/swanctl/swanctl.conf" mode="$mode" \
    local="$INTEROP_ADDR_B" remote="$INTEROP_ADDR_A" local_id="$peer_id" remote_id="$local_id" \
    psk="$psk" proposals="$ike" esp_proposals="$esp" \
    local_ts="$INTEROP_NET_B" remote_ts="$INTEROP_NET_A" \
    child_rekey_time="$child_rekey_time" life_time="$child_life_time" \
    fragmentation="$fragmentation" "${auth_args[@]}"
[ "$capture" = yes ] && interop_capture_start "$ns_local" "$INTEROP_RUN/ike.pcap"
interop_charon_start "$state" "$ns_peer"
charon_pid=$INTEROP_LAST_PID

rc=0
ip netns exec "$ns_local" env \
    INTEROP_LOCAL="$INTEROP_ADDR_A" INTEROP_PEER="$INTEROP_ADDR_B" \
    INTEROP_LOCAL_TS="$INTEROP_NET_A" INTEROP_PEER_TS="$INTEROP_NET_B" \
    INTEROP_LOCAL_INNER="$INTEROP_INNER_A" INTEROP_PEER_INNER="$INTEROP_INNER_B" \
    INTEROP_LOCAL_ID="$local_id" INTEROP_PEER_ID="$peer_id" INTEROP_PSK="$psk" \
    INTEROP_CHARON_VICI="unix://$state/run/charon.vici" INTEROP_PEER_NS="$ns_peer" \
    STRONGSWAN_CONF="$state/strongswan.conf" SWANCTL_DIR="$state/swanctl" \
    INTEROP_AUTH="$auth" INTEROP_PKI="$pki" INTEROP_CA="$pki/ca.pem" \
    "$@" || rc=$?

interop_swanctl "$state" --list-sas >"$INTEROP_RUN/list-sas.txt" 2>&1 || true
interop_capture_stop
if [ -n "$out" ]; then
    mkdir -p "$out"
    cp "$state/charon.log" "$state/swanctl/swanctl.conf" "$INTEROP_RUN/list-sas.txt" "$out/"
    echo "$charon_pid" >"$out/charon.pid"
    [ "$capture" = yes ] && cp "$INTEROP_RUN/ike.pcap" "$out/"
fi
exit "$rc"
