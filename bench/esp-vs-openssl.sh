#!/usr/bin/env bash
# Runs, in one go, the esp-core criterion benchmarks (ESP seal/open and the
# raw primitives they are built on) and `openssl speed -evp` at the same
# payload sizes, and prints throughputs and ratios. Run by hand (not in CI):
#
#   bash bench/esp-vs-openssl.sh            # all sizes
#   SIZES="1400" bash bench/esp-vs-openssl.sh
#
# Target (issue 4): ESP framing costs at most 10% over the raw primitive at
# 1400 bytes, i.e. esp/raw >= 0.90.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"64 1400 8192"}
SECONDS_PER=${SECONDS_PER:-2}
PY=${PYTHON:-python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

filter=$(printf '%s|' $SIZES); filter="/(${filter%|})\$"
echo "== cargo bench (esp-core, sizes: $SIZES)" >&2
cargo bench -p esp-core --bench esp -- --warm-up-time 1 --measurement-time "$SECONDS_PER" "$filter" \
  > "$out/criterion.txt" 2>&1 || { cat "$out/criterion.txt" >&2; exit 1; }

echo "== openssl speed" >&2
: > "$out/openssl.txt"
for size in $SIZES; do
  for alg in aes-128-gcm aes-256-gcm chacha20-poly1305 aes-256-cbc aes-128-cbc des-ede3-cbc; do
    kb=$(openssl speed -seconds "$SECONDS_PER" -bytes "$size" -evp "$alg" 2>/dev/null | tail -1 | awk '{print $NF}')
    echo "$alg $size $kb" >> "$out/openssl.txt"
  done
  for mac in sha1 sha256; do
    kb=$(openssl speed -seconds "$SECONDS_PER" -bytes "$size" -hmac "$mac" 2>/dev/null | tail -1 | awk '{print $NF}')
    echo "hmac-$mac $size $kb" >> "$out/openssl.txt"
  done
done

"$PY" - "$out/criterion.txt" "$out/openssl.txt" <<'PYEOF'
import re, sys
units = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
bench = {}
current = None
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"^((?:esp|raw)-(?:seal|open)/[\w.-]+/\d+)", line)
    if m:
        current = m.group(1)
    t = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
    if t and current:
        bench[current] = float(t.group(1)) * units[t.group(2)]
        current = None
ossl = {}
for line in open(sys.argv[2]):
    alg, size, kb = line.split()
    ossl[(alg, int(size))] = float(kb.rstrip("k")) * 1000 if kb.endswith("k") else float("nan")

def combined(*rates):
    return 1 / sum(1 / r for r in rates)

openssl_for = {
    "aes128-gcm16": lambda s: ossl[("aes-128-gcm", s)],
    "aes256-gcm16": lambda s: ossl[("aes-256-gcm", s)],
    "chacha20-poly1305": lambda s: ossl[("chacha20-poly1305", s)],
    "aes256-cbc-hmac-sha1-96": lambda s: combined(ossl[("aes-256-cbc", s)], ossl[("hmac-sha1", s)]),
    "aes128-cbc-hmac-sha256-128": lambda s: combined(ossl[("aes-128-cbc", s)], ossl[("hmac-sha256", s)]),
    "3des-cbc-hmac-sha1-96": lambda s: combined(ossl[("des-ede3-cbc", s)], ossl[("hmac-sha1", s)]),
}
print("%-28s %6s %10s %10s %10s %8s %10s %8s" % ("suite", "bytes", "raw MB/s", "seal MB/s", "open MB/s", "seal/raw", "openssl", "seal/ossl"))
worst = None
for key in sorted(k for k in bench if k.startswith("esp-seal/")):
    _, suite, size = key.split("/")
    size = int(size)
    rate = lambda k: size / bench[k] * 1e3 if k in bench else float("nan")  # MB/s
    seal, raw = rate(key), rate("raw-seal/%s/%d" % (suite, size))
    opened = rate("esp-open/%s/%d" % (suite, size))
    o = openssl_for[suite](size) / 1e6
    ratio = seal / raw
    if size == 1400:
        worst = ratio if worst is None else min(worst, ratio)
    print("%-28s %6d %10.0f %10.0f %10.0f %8.2f %10.0f %8.2f" % (suite, size, raw, seal, opened, ratio, o, seal / o))
if worst is not None:
    print("\nworst seal/raw at 1400 bytes: %.2f (target >= 0.90): %s" % (worst, "met" if worst >= 0.9 else "NOT met"))
PYEOF
