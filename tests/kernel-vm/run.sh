#!/usr/bin/env bash
# Boots a stock Debian 12 kernel under QEMU (TCG) from an initramfs holding
# busybox, dash, iproute2, tcpdump, the IPsec kernel modules and the programs
# given on the command line, runs them as root in the guest, and exits with
# the guest's status. The host kernel has no PF_KEY and no ESP states; this
# guest has both (see tests/kernel-vm/README.md).
#
#   tests/kernel-vm/run.sh [options] STEP...
#
# Steps run in the order given; every step runs even if an earlier one failed.
#   --bin PATH[:ENV=VAL...]  copy the program (and its shared libraries) into
#                            the guest and run it with these variables set
#   --arg ARG                add ARG to the previous --bin's command line
#   --script FILE            copy FILE into the guest and run it with dash
# Other options:
#   --file PATH[:GUESTPATH]  copy a file (ELF: with its libraries) without
#                            running it; default /usr/local/bin/NAME
#   --name NAME              label for the previous step (default: file name)
#   --out DIR                after the steps, copy what they left in the
#                            guest's $KVM_OUT (/kvm/out) to DIR on the host
#   --timeout SECONDS        whole-VM bound (default 240)
#   --quiet                  print the guest console only on failure
#   --keep                   keep the work directory
#
# Environment: IPSEC_REQUIRE_KERNEL_VM=1 turns "qemu missing" into a failure;
# IPSEC_KERNEL_VM_CACHE (cache directory), IPSEC_KERNEL_VM_PACKAGE (e.g.
# linux-image-6.1.0-57-amd64), IPSEC_KERNEL_VM_MEM (MiB, default 512).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Bumped when the layout of the cached base image changes.
base_format=3

die() { echo "kernel-vm: $*" >&2; exit 1; }
note() { echo "kernel-vm: $*" >&2; }

# --- command line -----------------------------------------------------------

steps=()      # "bin<TAB>host path<TAB>env...", "script<TAB>host path"
step_args=()  # per step: extra argv, already shell-quoted for the guest
step_names=()
files=()      # "host path<TAB>guest path"
timeout_s=240
quiet=0
keep=0
out_dir=""

while [ $# -gt 0 ]; do
  case "$1" in
    --bin)
      [ $# -ge 2 ] || die "--bin needs an argument"
      IFS=':' read -r -a parts <<<"$2"
      path="${parts[0]}"
      [ -f "$path" ] || die "--bin: no such file: $path"
      envs=""
      for kv in "${parts[@]:1}"; do
        [[ "$kv" == *=* ]] || die "--bin: expected ENV=VAL, got '$kv'"
        envs+=$'\t'"$kv"
      done
      steps+=("bin"$'\t'"$(realpath "$path")$envs")
      step_args+=("")
      step_names+=("$(basename "$path")")
      shift 2 ;;
    --arg)
      [ $# -ge 2 ] || die "--arg needs an argument"
      [ ${#steps[@]} -gt 0 ] && [[ "${steps[-1]}" == bin* ]] || die "--arg must follow --bin"
      q="${2//\'/\'\\\'\'}"
      step_args[-1]+=" '$q'"
      shift 2 ;;
    --script)
      [ $# -ge 2 ] || die "--script needs an argument"
      [ -f "$2" ] || die "--script: no such file: $2"
      steps+=("script"$'\t'"$(realpath "$2")")
      step_args+=("")
      step_names+=("$(basename "$2")")
      shift 2 ;;
    --file)
      [ $# -ge 2 ] || die "--file needs an argument"
      src="${2%%:*}"
      dst="/usr/local/bin/$(basename "$src")"
      [[ "$2" == *:* ]] && dst="${2#*:}"
      [ -f "$src" ] || die "--file: no such file: $src"
      [[ "$dst" == /* ]] || die "--file: guest path must be absolute: $dst"
      files+=("$(realpath "$src")"$'\t'"$dst")
      shift 2 ;;
    --name)
      [ $# -ge 2 ] || die "--name needs an argument"
      [ ${#steps[@]} -gt 0 ] || die "--name must follow a step"
      [[ "$2" =~ ^[A-Za-z0-9._-]+$ ]] || die "--name: use letters, digits, . _ -"
      step_names[-1]="$2"
      shift 2 ;;
    --out)
      [ $# -ge 2 ] || die "--out needs an argument"
      mkdir -p "$2"
      out_dir="$(realpath "$2")"
      shift 2 ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[ ${#steps[@]} -gt 0 ] || die "nothing to run: give --bin or --script (see --help)"

# --- prerequisites ----------------------------------------------------------

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  if [ "${IPSEC_REQUIRE_KERNEL_VM:-0}" = 1 ]; then
    die "qemu-system-x86_64 is not installed and IPSEC_REQUIRE_KERNEL_VM=1 (install: .ci/install-packages)"
  fi
  echo "SKIPPED: kernel VM tests: qemu-system-x86_64 is not installed (Debian: qemu-system-x86)"
  exit 0
fi
for tool in busybox dash ip cpio depmod modprobe dpkg-deb xz flock timeout ldd; do
  command -v "$tool" >/dev/null 2>&1 || die "missing host tool: $tool (install: .ci/install-packages)"
done
busybox_bin="$(command -v busybox)"
# The guest has no dynamic busybox libraries; insist on busybox-static.
if ldd "$busybox_bin" >/dev/null 2>&1; then
  die "$busybox_bin is dynamically linked; install busybox-static"
fi

if [ -n "${IPSEC_KERNEL_VM_CACHE:-}" ]; then
  cache="$IPSEC_KERNEL_VM_CACHE"
elif mkdir -p /var/cache/ipsec-kernel-vm 2>/dev/null && [ -w /var/cache/ipsec-kernel-vm ]; then
  cache=/var/cache/ipsec-kernel-vm
else
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/ipsec-kernel-vm"
fi
mkdir -p "$cache"

# --- kernel package ----------------------------------------------------------

# Debian's linux-image-amd64 metapackage names the current kernel package.
resolve_kernel_package() {
  if [ -n "${IPSEC_KERNEL_VM_PACKAGE:-}" ]; then
    echo "$IPSEC_KERNEL_VM_PACKAGE"
    return
  fi
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

apt_update() {
  [ "$(id -u)" = 0 ] || return 1
  note "apt-get update (package lists missing or stale)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
}

# Downloads into $cache/debs; prints the .deb's path.
fetch_kernel_deb() {
  local pkg="$1" deb
  deb="$(ls "$cache"/debs/"${pkg}"_*.deb 2>/dev/null | head -1 || true)"
  if [ -n "$deb" ]; then echo "$deb"; return; fi
  mkdir -p "$cache/debs"
  local tmp
  tmp="$(mktemp -d "$cache/debs/.dl.XXXXXX")"
  # A package list can name a version the mirror no longer has: update once.
  if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
    apt_update || true
    (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
      { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
  fi
  deb="$(ls "$tmp"/*.deb | head -1)"
  mv "$deb" "$cache/debs/"
  rm -rf "$tmp"
  echo "$cache/debs/$(basename "$deb")"
}

# The guest modules. Missing required ones fail the build; optional ones
# (CPU-specific accelerators) are loaded when the guest CPU allows.
required_modules=(
  af_key xfrm_user xfrm_interface esp4 esp6 ah4 ah6 xfrm4_tunnel xfrm6_tunnel
  ipcomp ipcomp6 veth tun
  authenc authencesn echainiv seqiv gcm ccm ghash-generic ctr cbc hmac cmac
  xcbc des_generic des3_ede sha1_generic sha256_generic sha512_generic md5
  crypto_null chacha20poly1305 chacha_generic poly1305_generic deflate
  # Without a stdrng every ESP SA add fails with ENOENT (IV generators need
  # it). jitterentropy_rng allocates sha3-256 when it loads (6.1.0-57).
  sha3_generic jitterentropy_rng drbg
)
optional_modules=(aesni_intel sha1-ssse3 sha256-ssse3 ghash-clmulni-intel)

# Unpacks the kernel, extracts the uncompressed vmlinux (booted directly via
# PVH, which skips the real-mode setup and saves seconds under TCG), and
# builds the base initramfs. Output in $1.
build_base() {
  local deb="$1" out="$2" tmp
  tmp="$(mktemp -d "$cache/.build.XXXXXX")"
  dpkg-deb -x "$deb" "$tmp/pkg"
  local kver
  kver="$(ls "$tmp/pkg/lib/modules" | head -1)"
  [ -n "$kver" ] || die "$deb has no lib/modules"
  local vmlinuz="$tmp/pkg/boot/vmlinuz-$kver"
  [ -f "$vmlinuz" ] || die "$deb has no boot/vmlinuz-$kver"
  mkdir -p "$tmp/out"
  cp "$vmlinuz" "$tmp/out/vmlinuz"
  echo "$kver" >"$tmp/out/kver"
  extract_vmlinux "$vmlinuz" "$tmp/out/vmlinux" ||
    note "could not extract vmlinux; will boot the bzImage (slower)"

  depmod -b "$tmp/pkg" "$kver"
  local root="$tmp/root"
  mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,var,kvm}
  ln -s ../run "$root/var/run"

  # Module load order, resolved on the host so the guest needs only insmod.
  local list="$root/kvm/modules" m kind path
  : >"$list"
  for m in "${required_modules[@]}" "${optional_modules[@]}"; do
    local required=1
    [[ " ${optional_modules[*]} " == *" $m "* ]] && required=0
    local deps
    if ! deps="$(modprobe -d "$tmp/pkg" -S "$kver" --show-depends "$m" 2>&1)"; then
      [ "$required" = 1 ] && die "kernel $kver has no module $m: $deps"
      continue
    fi
    while read -r kind path _; do
      case "$kind" in
        insmod)
          local rel="${path#"$tmp/pkg"}"
          if ! grep -qF "$rel " "$list"; then
            mkdir -p "$root$(dirname "$rel")"
            cp "$path" "$root$rel"
            echo "$rel $required" >>"$list"
          fi ;;
        builtin) ;;
        *) die "unexpected modprobe output for $m: $kind $path" ;;
      esac
    done <<<"$deps"
  done

  # busybox for the applets, dash as /bin/sh: busybox's own sh would run its
  # ip applet, which has no xfrm.
  cp "$busybox_bin" "$root/bin/busybox"
  local applet
  # Busybox applets that run a command prefer busybox's own applets, so
  # `timeout 5 ip xfrm ...` would get the xfrm-less ip: take the host's
  # versions of those (and drop `time`, which has none here).
  local launcher
  for launcher in env timeout xargs nsenter unshare setsid nice nohup taskset chroot ionice; do
    local host_tool
    host_tool="$(command -v "$launcher" || true)"
    [ -n "$host_tool" ] && copy_elf "$host_tool" "/bin/$launcher" "$root"
  done
  for applet in $("$busybox_bin" --list); do
    case "$applet" in sh|ip|time|busybox) continue ;; esac
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  copy_elf "$(command -v dash)" /bin/dash "$root"
  ln -s dash "$root/bin/sh"
  copy_elf "$(command -v ip)" /sbin/ip "$root"
  if command -v tcpdump >/dev/null 2>&1; then
    copy_elf "$(command -v tcpdump)" /sbin/tcpdump "$root"
  fi
  printf 'root:x:0:0:root:/root:/bin/sh\ntcpdump:x:104:109::/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\ntcpdump:x:109:\n' >"$root/etc/group"
  printf 'ip 0 IP\nicmp 1 ICMP\ntcp 6 TCP\nudp 17 UDP\nesp 50 ESP\nah 51 AH\nipv6-icmp 58 IPv6-ICMP\ncomp 108 IPCOMP\n' \
    >"$root/etc/protocols"
  [ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$root/etc/"
  if [ -d /usr/share/iproute2 ]; then
    mkdir -p "$root/usr/share"
    cp -r /usr/share/iproute2 "$root/usr/share/"
  fi
  cp "$here/guest/init" "$root/init"
  chmod 755 "$root/init"

  make_cpio "$root" "$tmp/out/base.cpio"
  rm -rf "$out"
  mv "$tmp/out" "$out"
  rm -rf "$tmp"
}

# The bzImage payload is a compressed ELF; find its magic and unpack it.
extract_vmlinux() {
  local img="$1" out="$2" magic tool off
  for pair in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
    tool="${pair%%:*}"
    magic="${pair#*:}"
    command -v "$tool" >/dev/null 2>&1 || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1 | head -5); do
      # Trailing data after the stream makes the decompressor complain.
      tail -c +"$((off + 1))" "$img" | "$tool" -dc 2>/dev/null >"$out" || true
      if [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        return 0
      fi
    done
  done
  rm -f "$out"
  return 1
}

# Copies an ELF file to $2 under root $3 together with the shared libraries
# ldd lists, at the same paths as on the host.
copy_elf() {
  local src="$1" dst="$2" root="$3" lib
  mkdir -p "$root$(dirname "$dst")"
  cp -L "$src" "$root$dst"
  chmod u+w "$root$dst"
  local libs
  libs="$(ldd "$src" 2>/dev/null || true)"
  for lib in $(awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]+ \(0x/ { print $1 }' <<<"$libs"); do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

make_cpio() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# --- base image (cached, shared between concurrent runs) -------------------

exec 9>"$cache/.lock"
flock 9
# Left behind by an interrupted build.
rm -rf "$cache"/.build.* "$cache"/debs/.dl.*
pkg="$(resolve_kernel_package || true)"
if [ -z "$pkg" ]; then
  apt_update || true
  pkg="$(resolve_kernel_package || true)"
fi
if [ -z "$pkg" ]; then
  pkg="$(ls -t "$cache/base" 2>/dev/null | head -1 | sed 's/-[0-9a-f]\{16\}$//')"
  [ -n "$pkg" ] || die "cannot find a Debian kernel package (is this Debian 12 with deb.debian.org in sources.list?)"
  note "using cached kernel $pkg"
fi
# The base depends on this script, the guest init and the host tools copied.
base_key="$(
  {
    echo "$base_format $pkg"
    cat "$0" "$here/guest/init"
    for t in "$busybox_bin" dash ip tcpdump; do
      p="$(command -v "$t" || true)"
      [ -n "$p" ] && ls -lL "$p"
    done
  } | sha256sum | cut -c1-16
)"
base="$cache/base/$pkg-$base_key"
if [ ! -f "$base/base.cpio" ]; then
  deb="$(fetch_kernel_deb "$pkg")"
  note "building base image for $pkg in $base"
  mkdir -p "$cache/base"
  build_base "$deb" "$base"
  # Old bases of the same package are stale.
  for old in "$cache/base/$pkg"-*; do
    [ "$old" = "$base" ] || rm -rf "$old"
  done
fi
flock -u 9
exec 9>&-

# --- per-run image -----------------------------------------------------------

work="$(mktemp -d "${TMPDIR:-/tmp}/kernel-vm.XXXXXX")"
cleanup() { [ "$keep" = 1 ] && note "work directory kept: $work" || rm -rf "$work"; }
trap cleanup EXIT
run_root="$work/root"
mkdir -p "$run_root/kvm/steps" "$run_root/kvm/bin" "$run_root/kvm/scripts" "$run_root/kvm/out"

# Debug info makes test binaries many times larger; the guest has no use for
# it (symbols stay, so backtraces still name functions).
copy_program() {
  local src="$1" dst="$2"
  copy_elf "$src" "$dst" "$run_root"
  if command -v objcopy >/dev/null 2>&1 && [ "$(head -c 4 "$src" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
    objcopy --strip-debug "$run_root$dst" 2>/dev/null || true
  fi
}

# Guest-side quoting: single quotes, understood by dash.
squote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

for entry in "${files[@]+"${files[@]}"}"; do
  src="${entry%%$'\t'*}"
  dst="${entry#*$'\t'}"
  if [ "$(head -c 4 "$src" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
    copy_program "$src" "$dst"
  else
    mkdir -p "$run_root$(dirname "$dst")"
    cp "$src" "$run_root$dst"
  fi
done

declare -A used_names=()
for i in "${!steps[@]}"; do
  IFS=$'\t' read -r -a fields <<<"${steps[$i]}"
  kind="${fields[0]}"
  src="${fields[1]}"
  name="${step_names[$i]}"
  if [ -n "${used_names[$name]:-}" ]; then name="$name.$i"; fi
  used_names[$name]=1
  step_names[i]="$name"
  stepfile="$run_root/kvm/steps/$(printf '%02d' "$i")-$name"
  case "$kind" in
    bin)
      copy_program "$src" "/kvm/bin/$name"
      {
        printf 'exec env'
        for kv in "${fields[@]:2}"; do printf ' %s' "$(squote "$kv")"; done
        printf ' /kvm/bin/%s%s\n' "$name" "${step_args[$i]}"
      } >"$stepfile" ;;
    script)
      cp "$src" "$run_root/kvm/scripts/$name"
      printf 'exec /bin/sh /kvm/scripts/%s\n' "$name" >"$stepfile" ;;
  esac
done

# A fresh token per run, so nothing a step prints can pass for the verdict.
token="KVM$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
echo "$token" >"$run_root/kvm/token"
make_cpio "$run_root" "$work/run.cpio"
# The kernel unpacks concatenated newc archives in order.
cat "$base/base.cpio" "$work/run.cpio" >"$work/initrd"

kernel_args=(-kernel "$base/vmlinuz")
firmware=()
if [ -f "$base/vmlinux" ]; then
  kernel_args=(-kernel "$base/vmlinux")
  for rom in /usr/share/qemu/qboot.rom /usr/share/qemu-efi/qboot.rom; do
    if [ -f "$rom" ]; then firmware=(-bios "$rom"); break; fi
  done
fi

console="$work/console.log"
: >"$console"  # qemu may die before it opens it
mem="${IPSEC_KERNEL_VM_MEM:-512}"
note "booting $(cat "$base/kver") with ${#steps[@]} step(s)"
start=$SECONDS
set +e
timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 \
  -machine q35,accel=tcg -cpu max -smp 1 -m "$mem" \
  "${firmware[@]+"${firmware[@]}"}" "${kernel_args[@]}" -initrd "$work/initrd" \
  -append "console=ttyS0 panic=-1 loglevel=4 random.trust_cpu=on no_timer_check" \
  -nic none -display none -no-reboot -monitor none -serial "file:$console" \
  </dev/null >"$work/qemu.out" 2>&1
qemu_status=$?
set -e
elapsed=$((SECONDS - start))

tr -d '\r' <"$console" >"$console.txt"
verdict="$(sed -n "s/^$token EXIT \([0-9]\{1,3\}\)$/\1/p" "$console.txt" | tail -1)"

show_console() {
  echo "----- guest console -----"
  # The token is noise for a reader; the output archive is noise too.
  sed "/^$token OUT-BEGIN$/,/^$token OUT-END$/d; s/^$token /## /" "$console.txt"
  echo "----- end of guest console -----"
}

# The guest sends $KVM_OUT back as a base64 tar.gz between two marker lines.
if [ -n "$out_dir" ] && [ -n "$verdict" ]; then
  if ! sed -n "/^$token OUT-BEGIN$/,/^$token OUT-END$/{/^$token /d;p}" "$console.txt" |
    base64 -d | tar -xz -C "$out_dir"; then
    note "could not unpack the guest's output into $out_dir"
    verdict=1
  fi
fi

status=0
reason=""
if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
  status=1
  reason="timed out after ${timeout_s}s"
elif [ -z "$verdict" ]; then
  status=1
  reason="the guest printed no verdict (qemu exit $qemu_status)"
elif [ "$verdict" != 0 ]; then
  status=1
  reason="guest steps failed"
fi

if [ "$status" != 0 ] || [ "$quiet" = 0 ]; then
  show_console
  if [ -s "$work/qemu.out" ]; then
    echo "----- qemu -----"
    cat "$work/qemu.out"
  fi
fi
echo "kernel-vm: results ($(cat "$base/kver"), ${elapsed}s):"
for name in "${step_names[@]}"; do
  s="$(sed -n "s/^$token STEP $name \([0-9]\{1,3\}\)$/\1/p" "$console.txt" | tail -1)"
  took="$(sed -n "s/^$token TIME $name \([0-9.]*\) \([0-9.]*\)$/\1 \2/p" "$console.txt" |
    awk '{ printf " (%.1fs)", $2 - $1 }')"
  if [ -z "$s" ]; then
    echo "  $name: did not finish"
  elif [ "$s" = 0 ]; then
    echo "  $name: ok$took"
  else
    echo "  $name: FAILED (exit $s)$took"
  fi
done
if [ "$status" != 0 ]; then
  echo "kernel-vm: FAILED: $reason" >&2
  exit 1
fi
echo "kernel-vm: all steps passed"
