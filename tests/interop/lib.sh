# shellcheck shell=bash
# Reusable pieces for running IKE peers in throw-away network namespaces.
#
# Source this file, call `interop_init`, then build a topology with
# `interop_netns_pair`, start peers (`interop_charon_start` for strongSwan;
# any other daemon can be started in the same namespaces with `interop_spawn`),
# capture with `interop_capture_start`, and let the EXIT trap clean up.
#
# Everything lives under one temp dir ($INTEROP_RUN) and in namespaces this
# file created; addresses exist only inside those namespaces.
#
# Facts this relies on (see README.md): charon hard-codes /var/run/charon.pid,
# so each instance gets its own mount namespace with STATE/run bind-mounted on
# /run; libipsec does ESP in user space (the kernel here has no ESP); PID 1 does
# not reap orphans, so liveness is read from /proc/PID/status.

INTEROP_CHARON=${INTEROP_CHARON:-/usr/lib/ipsec/charon}
INTEROP_SWANCTL=${INTEROP_SWANCTL:-swanctl}

# Outer link between the two namespaces, and one inner subnet per side on lo.
INTEROP_ADDR_A=${INTEROP_ADDR_A:-10.99.0.1}
INTEROP_ADDR_B=${INTEROP_ADDR_B:-10.99.0.2}
INTEROP_NET_A=${INTEROP_NET_A:-10.99.1.0/24}
INTEROP_NET_B=${INTEROP_NET_B:-10.99.2.0/24}
INTEROP_INNER_A=${INTEROP_INNER_A:-10.99.1.1}
INTEROP_INNER_B=${INTEROP_INNER_B:-10.99.2.1}

INTEROP_RUN=""
INTEROP_NAMESPACES=()
INTEROP_PIDS=()

interop_log() { printf '[interop] %s\n' "$*" >&2; }
interop_die() { interop_log "error: $*"; exit 1; }

# interop_init: create the run dir and install the cleanup trap.
interop_init() {
    [ "$(id -u)" = 0 ] || interop_die "needs root (network namespaces)"
    INTEROP_RUN=$(mktemp -d /tmp/interop.XXXXXX)
    trap interop_cleanup EXIT
    trap 'exit 130' INT TERM
}

# interop_alive PID: true while PID exists and is not a zombie.
interop_alive() {
    local state
    state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# interop_stop PID [SIGNAL]: signal PID, wait up to 3 s, then SIGKILL; reap it.
interop_stop() {
    local pid=$1 sig=${2:-TERM} i
    interop_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
    kill "-$sig" "$pid" 2>/dev/null
    for i in $(seq 30); do
        interop_alive "$pid" || break
        sleep 0.1
    done
    if interop_alive "$pid"; then
        interop_log "pid $pid ignored SIG$sig, killing"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# interop_cleanup: stop every process we spawned (newest first), delete our
# namespaces and the run dir. Installed as the EXIT trap by interop_init.
interop_cleanup() {
    local rc=$? i ns
    trap - EXIT
    for ((i = ${#INTEROP_PIDS[@]} - 1; i >= 0; i--)); do
        interop_stop "${INTEROP_PIDS[i]}" || true # set -e must not cut the cleanup short
    done
    INTEROP_PIDS=()
    for ns in "${INTEROP_NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    INTEROP_NAMESPACES=()
    if [ -n "$INTEROP_RUN" ] && [ -d "$INTEROP_RUN" ]; then
        if [ -n "${INTEROP_KEEP:-}" ]; then
            interop_log "kept $INTEROP_RUN"
        else
            rm -rf "$INTEROP_RUN"
        fi
    fi
    exit "$rc"
}

# interop_netns_pair NS_A NS_B: two namespaces joined by a veth pair
# (veth0 in each), $INTEROP_ADDR_A/24 and $INTEROP_ADDR_B/24 on it, and the
# first host of each inner subnet on lo (libipsec wants a local address inside
# the local traffic selector).
interop_netns_pair() {
    local a=$1 b=$2
    ip netns add "$a" || interop_die "ip netns add $a"
    INTEROP_NAMESPACES+=("$a")
    ip netns add "$b" || interop_die "ip netns add $b"
    INTEROP_NAMESPACES+=("$b")
    ip -n "$a" link add veth0 type veth peer name veth0 netns "$b" ||
        interop_die "veth pair"
    ip -n "$a" addr add "$INTEROP_ADDR_A/24" dev veth0
    ip -n "$b" addr add "$INTEROP_ADDR_B/24" dev veth0
    ip -n "$a" addr add "$INTEROP_INNER_A/32" dev lo
    ip -n "$b" addr add "$INTEROP_INNER_B/32" dev lo
    local ns
    for ns in "$a" "$b"; do
        ip -n "$ns" link set lo up
        ip -n "$ns" link set veth0 up
    done
}

# interop_spawn NS LOG CMD...: run CMD in namespace NS in the background,
# stdout+stderr to LOG; its pid is tracked for cleanup and left in
# $INTEROP_LAST_PID. The ip-netns-exec chain execs, so the pid is CMD's.
interop_spawn() {
    local ns=$1 log=$2
    shift 2
    ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
    INTEROP_LAST_PID=$!
    INTEROP_PIDS+=("$INTEROP_LAST_PID")
}

# interop_wait_for TIMEOUT_DS DESCRIPTION CMD...: poll CMD every 0.1 s, at
# most TIMEOUT_DS tenths of a second.
interop_wait_for() {
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    interop_log "timed out waiting for $what"
    return 1
}

# interop_capture_start NS PCAP: tcpdump of IKE (UDP 500/4500, including
# ESP-in-UDP) on veth0 in NS. --immediate-mode, or short captures stay empty.
interop_capture_start() {
    local ns=$1 pcap=$2
    interop_spawn "$ns" "$pcap.tcpdump.log" \
        tcpdump --immediate-mode -U -n -s 0 -i veth0 -w "$pcap" \
        'udp port 500 or udp port 4500'
    INTEROP_CAPTURE_PID=$INTEROP_LAST_PID
    # tcpdump prints "listening on" once the socket is open.
    interop_wait_for 50 "tcpdump in $ns" grep -qs 'listening on' "$pcap.tcpdump.log"
}

# interop_capture_stop: stop the running capture so the pcap is complete.
interop_capture_stop() {
    [ -n "${INTEROP_CAPTURE_PID:-}" ] || return 0
    sleep 0.2 # let the last packets through the capture buffer
    interop_stop "$INTEROP_CAPTURE_PID" INT
    INTEROP_CAPTURE_PID=""
}

# ---------------------------------------------------------------- strongSwan

# interop_charon_write_conf STATE: strongswan.conf for one instance whose files
# live in STATE (vici socket in STATE/run, log in STATE/charon.log).
# INTEROP_CHARON_DELETE_REKEYED=yes: delete a CHILD_SA right after its rekey.
interop_charon_write_conf() {
    local state=$1
    mkdir -p "$state/run" "$state/swanctl"
    cat >"$state/strongswan.conf" <<CONF
charon {
    load_modular = no
    # kernel-libipsec before kernel-netlink: ESP in user space, netlink only
    # for addresses and routes.
    load = random nonce aes sha1 sha2 md5 hmac gmp openssl curve25519 pem pkcs1 pkcs8 x509 pubkey constraints kdf kernel-libipsec kernel-netlink socket-default vici
    install_routes = yes
    i_dont_care_about_security_and_use_aggressive_mode_psk = yes
    delete_rekeyed = ${INTEROP_CHARON_DELETE_REKEYED:-no}
    retransmit_tries = 3
    retransmit_timeout = 1.0
    retransmit_base = 1.4
    plugins {
        vici {
            socket = unix://$state/run/charon.vici
        }
    }
    filelog {
        main {
            path = $state/charon.log
            default = 1
            ike = 4
            chd = 4
            mgr = 2
            cfg = 2
            flush_line = yes
            ike_name = yes
        }
    }
    syslog {
        daemon {
            default = -1
        }
    }
}
swanctl {
    socket = unix://$state/run/charon.vici
}
CONF
}

# interop_charon_start STATE NS: start charon in namespace NS with the config
# in STATE (interop_charon_write_conf + a STATE/swanctl/swanctl.conf), wait
# for its vici socket and load the connections. Pid in $INTEROP_LAST_PID.
interop_charon_start() {
    local state=$1 ns=$2
    [ -f "$state/strongswan.conf" ] || interop_charon_write_conf "$state"
    [ -f "$state/swanctl/swanctl.conf" ] || interop_die "$state/swanctl/swanctl.conf missing"
    STRONGSWAN_CONF=$state/strongswan.conf interop_spawn "$ns" "$state/charon.stdout" \
        unshare -m sh -c "mount -n --bind '$state/run' /run && exec '$INTEROP_CHARON'"
    local pid=$INTEROP_LAST_PID
    echo "$pid" >"$state/charon.pid.outer"
    interop_wait_for 100 "charon vici socket in $ns" test -S "$state/run/charon.vici" ||
        interop_die "charon in $ns did not start (see $state/charon.stdout)"
    interop_alive "$pid" || interop_die "charon in $ns exited"
    interop_swanctl "$state" --load-all --file "$state/swanctl/swanctl.conf" >"$state/load.log" 2>&1 ||
        { cat "$state/load.log" >&2; interop_die "swanctl --load-all failed in $ns"; }
    INTEROP_LAST_PID=$pid
}

# interop_swanctl STATE ARGS...: swanctl against the instance in STATE,
# killed after $INTEROP_SWANCTL_TIMEOUT s. (The command must come before --uri.)
interop_swanctl() {
    local state=$1
    shift
    STRONGSWAN_CONF=$state/strongswan.conf SWANCTL_DIR=$state/swanctl \
        timeout "${INTEROP_SWANCTL_TIMEOUT:-40}" \
        "$INTEROP_SWANCTL" "$@" --uri "unix://$state/run/charon.vici"
}

# interop_swanctl_pki STATE CERT KEY CA...: install our certificate, its
# private key (PKCS#8 PEM) and the trusted CA certificates where
# `swanctl --load-all` (SWANCTL_DIR=STATE/swanctl) reads them.
interop_swanctl_pki() {
    local dir=$1/swanctl cert=$2 key=$3
    shift 3
    mkdir -p "$dir/x509" "$dir/private" "$dir/x509ca"
    cp "$cert" "$dir/x509/" && cp "$key" "$dir/private/" && cp "$@" "$dir/x509ca/" ||
        interop_die "interop_swanctl_pki: cannot copy $cert $key $*"
}

# interop_swanctl_conf FILE KEY=VALUE...: write a one-connection IKEv1
# swanctl.conf. Keys (defaults in brackets):
#   name [c]  mode [main|aggressive]  local remote  local_id remote_id
#   fragmentation [yes]: IKEv1 fragmentation when the peer announces it
#     (yes), never (no), or always (force)
#   auth [psk|pubkey]: with pubkey, cert= names our certificate in
#     swanctl/x509 (see interop_swanctl_pki), sent always; no psk= needed
#   psk  proposals [aes128-sha1-modp2048]  esp_proposals [aes128-sha1]
#   local_ts remote_ts  rekey_time [2h] over_time [10m] life_time [1h]
#   child_rekey_time [50m]  dpd_delay [0s]
#   child2_local_ts child2_remote_ts: a second child "c2" with these selectors
interop_swanctl_conf() {
    local file=$1
    shift
    local -A o=(
        [name]=c [mode]=main [proposals]=aes128-sha1-modp2048
        [esp_proposals]=aes128-sha1 [rekey_time]=2h [over_time]=10m
        [life_time]=1h [child_rekey_time]=50m [dpd_delay]=0s [auth]=psk [fragmentation]=yes
    )
    local kv
    for kv in "$@"; do
        [[ $kv == *=* ]] || interop_die "interop_swanctl_conf: bad argument '$kv'"
        o[${kv%%=*}]=${kv#*=}
    done
    local required=(local remote local_id remote_id local_ts remote_ts)
    case ${o[auth]} in
        psk) required+=(psk) ;;
        pubkey) required+=(cert) ;;
        *) interop_die "interop_swanctl_conf: auth=${o[auth]}: psk or pubkey" ;;
    esac
    local k
    for k in "${required[@]}"; do
        [ -n "${o[$k]:-}" ] || interop_die "interop_swanctl_conf: $k= missing"
    done
    local local_auth="auth = psk" remote_auth="auth = psk" secrets="" send_cert=""
    if [ "${o[auth]}" = pubkey ]; then
        local_auth="auth = pubkey
            certs = ${o[cert]}"
        remote_auth="auth = pubkey"
        send_cert="send_cert = always"
    else
        secrets="
secrets {
    ike-${o[name]} {
        id-local = ${o[local_id]}
        id-remote = ${o[remote_id]}
        secret = \"${o[psk]}\"
    }
}"
    fi
    local aggressive=no
    [ "${o[mode]}" = aggressive ] && aggressive=yes
    local child2=""
    if [ -n "${o[child2_local_ts]:-}" ]; then
        child2="
            c2 {
                mode = tunnel
                local_ts = ${o[child2_local_ts]}
                remote_ts = ${o[child2_remote_ts]:?child2_remote_ts= missing}
                esp_proposals = ${o[esp_proposals]}
                life_time = ${o[life_time]}
                rekey_time = ${o[child_rekey_time]}
                rand_time = 0s
                start_action = none
            }"
    fi
    mkdir -p "$(dirname "$file")"
    cat >"$file" <<CONF
connections {
    ${o[name]} {
        version = 1
        aggressive = $aggressive
        local_addrs = ${o[local]}
        remote_addrs = ${o[remote]}
        proposals = ${o[proposals]}
        rekey_time = ${o[rekey_time]}
        over_time = ${o[over_time]}
        rand_time = 0s
        dpd_delay = ${o[dpd_delay]}
        fragmentation = ${o[fragmentation]}
        $send_cert
        local {
            $local_auth
            id = "${o[local_id]}"
        }
        remote {
            $remote_auth
            id = "${o[remote_id]}"
        }
        children {
            ${o[name]} {
                mode = tunnel
                local_ts = ${o[local_ts]}
                remote_ts = ${o[remote_ts]}
                esp_proposals = ${o[esp_proposals]}
                life_time = ${o[life_time]}
                rekey_time = ${o[child_rekey_time]}
                rand_time = 0s
                start_action = none
            }$child2
        }
    }
}$secrets
CONF
}

# interop_charon_wait_sa STATE CHILD TIMEOUT_DS: wait until charon in STATE
# lists CHILD as INSTALLED (for runs where the other side initiates).
interop_charon_wait_sa() {
    local state=$1 child=$2 limit=$3
    interop_wait_for "$limit" "CHILD_SA $child in $state" \
        _interop_child_installed "$state" "$child"
}

_interop_child_installed() {
    interop_swanctl "$1" --list-sas --child "$2" 2>/dev/null | grep -q 'INSTALLED'
}
