#!/usr/bin/env bash
# CI entry point for the kernel suites: builds the test programs on the host
# and runs them all in one QEMU guest (tests/kernel-vm/run.sh):
#   1. smoke.sh: af_key, stdrng, an `ip xfrm` ESP SA, kernel ESP between netns
#   2. examples/tests/kernel_vm.rs: a hand-built PF_KEY probe (no pfkey crate)
#   3. pfkey/tests/live_kernel.rs with IPSEC_LIVE_KERNEL=1 (when it exists)
#   4. the same kernel_vm.rs: kernel ESP <-> esp-core, both ways, 20 SA shapes
#   5. guest/e2e-static.sh: seed 001's manual keys loaded with ipsec-setkey in
#      two namespaces, pings through kernel ESP (tunnel and transport)
#   6. guest/e2e-daemon.sh: the same hosts with only the policies loaded; two
#      tanukis (data_path = kernel) negotiate on ACQUIRE, pings through the
#      SAs they installed via PF_KEY, SIGTERM leaves none behind (tunnel,
#      transport, and a passive responder with generate_policy)
# Skips (exit 0, "SKIPPED: ...") only when qemu is missing and
# IPSEC_REQUIRE_KERNEL_VM is not 1. Extra arguments go to run.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  # run.sh decides between SKIPPED and failure; no point building first.
  exec bash "$here/run.sh" --script "$here/guest/smoke.sh" "$@"
fi

# Prints the executable of the integration test TEST of PACKAGE, from
# cargo's JSON messages (the file name carries a hash).
build_test() {
  local package="$1" test="$2" json
  # Once for readable compiler errors, once (a no-op) for the path.
  cargo test -q -p "$package" --test "$test" --no-run >&2
  json="$(cargo test -q -p "$package" --test "$test" --no-run --message-format=json)"
  grep -F "\"name\":\"$test\"" <<<"$json" | grep -F '"test":true' |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1
}

steps=(--script "$here/guest/smoke.sh" --name smoke)

echo "kernel-vm: building the PF_KEY probe"
probe="$(build_test ipsec-examples kernel_vm)"
[ -x "$probe" ] || { echo "kernel-vm: no executable for examples/tests/kernel_vm.rs" >&2; exit 1; }
steps+=(--bin "$probe" --arg --include-ignored --arg --test-threads=1 --arg pfkey_probe_
  --name pfkey-probe)

if [ -f pfkey/tests/live_kernel.rs ]; then
  echo "kernel-vm: building pfkey's live-kernel tests"
  live="$(build_test pfkey live_kernel)"
  [ -x "$live" ] || { echo "kernel-vm: no executable for pfkey/tests/live_kernel.rs" >&2; exit 1; }
  # One kernel SA table is shared by all tests: run them one at a time.
  steps+=(--bin "$live:IPSEC_LIVE_KERNEL=1" --arg --test-threads=1 --name pfkey-live-kernel)
else
  echo "kernel-vm: pfkey/tests/live_kernel.rs does not exist yet; not run"
fi

# tanuki's kernel glue: negotiated pairs through daemon::kernel into PF_KEY, read back.
echo "kernel-vm: building the kernel glue tests"
glue="$(build_test ipsec-examples kernel_glue)"
[ -x "$glue" ] || { echo "kernel-vm: no executable for examples/tests/kernel_glue.rs" >&2; exit 1; }
steps+=(--bin "$glue" --arg --include-ignored --arg --test-threads=1 --name kernel-glue)

# The same binary: kernel ESP against esp-core, both ways. With --out DIR
# the kernel's packets come back as recordings (see vectors/README.md).
steps+=(--bin "$probe" --arg --include-ignored --arg --test-threads=1 --arg esp_cross_
  --name esp-cross-check)

# The end-to-end steps run our programs in two namespaces: ipsec-setkey
# and tanuki, the shared shell functions and the scenario's files under
# /kvm/e2e. The binaries come from the kernel_vm build above (cargo builds a
# package's binaries for its integration tests); a separate `cargo build`
# would use other features and rebuild them.
bins="$(cargo test -q -p ipsec-examples --test kernel_vm --no-run --message-format=json)"
for bin in ipsec-setkey tanuki; do
  exe="$(grep -F "\"name\":\"$bin\"" <<<"$bins" | grep -F '"kind":["bin"]' |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)"
  [ -x "$exe" ] || { echo "kernel-vm: no executable for $bin" >&2; exit 1; }
  steps+=(--file "$exe")
done
steps+=(--file "$here/guest/e2e-lib.sh:/kvm/e2e/lib.sh")
for f in examples/tests/data/kernel-e2e/*; do
  steps+=(--file "$f:/kvm/e2e/$(basename "$f")")
done
steps+=(--script "$here/guest/e2e-static.sh" --name e2e-static)
steps+=(--script "$here/guest/e2e-daemon.sh" --name e2e-daemon)

exec bash "$here/run.sh" "${steps[@]}" "$@"
