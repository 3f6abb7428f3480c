#!/bin/bash
# Rampart's test command: what README names and what CI runs (.ci/run). Run it as root:
#     sudo ./scripts/test.sh
# 1. installs the system packages the namespace tests need, if missing (root + apt only);
# 2. cargo fmt --check, cargo clippy -D warnings, cargo test --workspace (namespace tests need
#    root: without it they print SKIPPED, and under CI=true they fail);
# 3. each cargo-fuzz target for a bounded time (FUZZ_SECONDS, default 30; longer runs: FUZZ_SECONDS=600), if fuzz/ exists.
# Every step runs even if an earlier one failed; the summary lists the failures; the exit status
# is nonzero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
# strongSwan with the plugins testbed's strongswan.conf loads (kernel-libipsec: extra-plugins of
# libcharon; gcm, openssl: standard; curve25519, chapoly: extra), and the network tools.
# debootstrap, cpio, zstd: the qemu guest image of the VM tests (crates/testbed/vm).
# Interop tests: strongswan-pki and openssl issue test certificates; iptables and conntrack run
# the NAT router; road-warrior tests: libcharon-extauth-plugins (strongSwan's eap-mschapv2) and
# nftables (the daemon's masquerade for pools); python3 checks exported profiles; Libreswan 4.10 conflicts with strongSwan's packages, so testbed unpacks it
# (apt-get download + dpkg -x) and only its libraries and NSS tools are installed here.
PACKAGES=(strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
          libstrongswan-extra-plugins iproute2 iputils-ping tcpdump debootstrap cpio zstd
          strongswan-pki openssl iptables conntrack libcharon-extauth-plugins nftables python3 charon-cmd iperf3
          libnss3-tools libldns3 libunbound8 libevent-core-2.1-7 libevent-pthreads-2.1-7 libcurl3-nss
          libcap-ng0 libaudit1 libpam0g libldap-2.5-0)

failed=()
timings=()
step() { # name command...
  local name=$1 start=$SECONDS rc
  shift
  echo
  echo "==> $name"
  "$@"
  rc=$?
  timings+=("$(printf '%-40s %4ss  %s' "$name" $((SECONDS - start)) "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")")
  [ $rc = 0 ] || failed+=("$name")
  return 0
}

install_packages() {
  local missing=() p added_policy=0 rc=0
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all present: ${PACKAGES[*]}"
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing ${missing[*]} and cannot install them (needs root and apt-get);"
    echo "the namespace tests will say SKIPPED (and fail under CI=true)"
    [ "${CI:-}" = true ] && return 1
    return 0
  fi
  # Packages must not start services here: a Docker-style policy-rc.d refuses every start
  # (added only for this install if none exists). Tests run their own charons in their own
  # namespaces, so even a host charon would not interfere.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && added_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
  [ $added_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

# The VM tests' guest (Debian's kernel with ESP/AH, qemu, strongSwan; crates/testbed/vm): built
# on first use (a few minutes, mostly downloads and debootstrap) and cached under
# /var/tmp/rampart-vm. The build runs in the background during fmt and clippy; its step waits
# for it, so that its time and a failed download show on their own line.
vm_pid=""
vm_log=""
vm_image_start() {
  [ "$(id -u)" = 0 ] || return 0
  vm_log=$(mktemp)
  bash crates/testbed/vm/build-image.sh >"$vm_log" 2>&1 &
  vm_pid=$!
}
vm_image_wait() {
  if [ -z "$vm_pid" ]; then
    echo "not root: cannot build the VM image; the VM tests will print SKIPPED"
    [ "${CI:-}" = true ] && return 1
    return 0
  fi
  local rc=0
  wait "$vm_pid" || rc=$?
  cat "$vm_log"
  rm -f "$vm_log"
  return $rc
}

fuzz_all() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || return 1
  fi
  # `-s none` (no sanitizer) builds with the stable toolchain; Rust's own checks still panic.
  local t rc=0 targets
  targets=$(cargo fuzz list) || return 1
  for t in $targets; do
    echo "--- fuzz $t for ${FUZZ_SECONDS}s"
    cargo fuzz run "$t" -s none -- -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 || rc=1
  done
  return $rc
}

# Under sudo, cargo may live in the invoking user's ~/.cargo/bin, outside root's PATH.
if ! command -v cargo >/dev/null && [ -n "${SUDO_USER:-}" ]; then
  h=$(getent passwd "$SUDO_USER" | cut -d: -f6)
  [ -x "$h/.cargo/bin/cargo" ] && export PATH="$h/.cargo/bin:$PATH" CARGO_HOME="$h/.cargo" RUSTUP_HOME="$h/.rustup"
fi
command -v cargo >/dev/null || { echo "cargo not found"; exit 1; }
if [ "$(id -u)" != 0 ]; then
  echo "note: not root; namespace tests will print SKIPPED (run: sudo ./scripts/test.sh)"
fi
step "system packages" install_packages
vm_image_start
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
step "VM image (crates/testbed/vm, built in the background)" vm_image_wait
step "cargo test --workspace" cargo test --workspace --no-fail-fast
if [ -d fuzz ]; then
  step "cargo fuzz (${FUZZ_SECONDS}s per target)" fuzz_all
fi

echo
echo "==> summary"
printf '%s\n' "${timings[@]}"
echo "total ${SECONDS}s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all steps passed"
