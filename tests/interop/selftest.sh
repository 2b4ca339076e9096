#!/usr/bin/env bash
# Checks the harness itself: with-charon.sh starts a charon, a small Python
# peer gets Main Mode 2 out of it, and everything is cleaned up afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../../ike-core/tests/data/strongswan/messages
before=$(ip netns list | wc -l)
out=$(mktemp -d /tmp/interop-selftest.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$here/with-charon.sh" --ike aes128-sha1-modp2048 --out "$out" -- \
    python3 "$here/probe_mm1.py" "$data/mm-aes128-sha1-modp2048.1.I.bin"
grep -q "parsed ID_PROT request 0 \[ SA V V V V V \]" "$out/charon.log"
[ -s "$out/ike.pcap" ]
# A failing command's status comes through, and cleanup still happens.
if "$here/with-charon.sh" --no-capture -- false; then
    echo "selftest: exit status lost" >&2; exit 1
fi
after=$(ip netns list | wc -l)
[ "$before" = "$after" ] || { echo "selftest: namespaces left behind" >&2; exit 1; }
source "$here/lib.sh"
if interop_alive "$(cat "$out/charon.pid")"; then
    echo "selftest: charon left running" >&2; exit 1
fi
echo "interop harness selftest: ok"
