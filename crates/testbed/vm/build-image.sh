#!/bin/bash
# Builds (or finds, cached) the qemu guest image the VM tests boot: Debian 12's stock kernel, which
# has ESP, AH and the IPsec crypto (this machine's kernel has none), and a Debian 12 rootfs with
# strongSwan on kernel XFRM, packed as an initramfs. See README.md beside this file.
#
#     sudo crates/testbed/vm/build-image.sh      # prints the image directory on its last line
#
# The image lives in $TESTBED_VM_DIR/<key> (default /var/tmp/rampart-vm/<key>), where <key> is a
# hash of this script: change the script (a package, a module) and the next run builds a new image
# (images of other versions go when unused for a week); otherwise it is reused. A finished image has these files:
#     qemu/         qemu-system-x86_64 with its firmware and TCG module, extracted from Debian's
#                   packages (installing them conflicts with this machine's qemu-utils 10 from
#                   backports, whose Breaks exclude qemu-system-common 7.2)
#     vmlinuz       the kernel of Debian 12's linux-image-amd64
#     rootfs.cpio.zst  the whole trimmed rootfs (newc cpio, zstd: loading an uncompressed one into
#                   the guest costs more than decompressing it)
#     info.txt      versions and build time
#     READY         written last
# The per-run files (test script, guest library, rampart binary) are NOT in here: the harness
# appends them as a second small cpio at each boot (crates/testbed/src/vm.rs).
#
# Needs root (debootstrap, apt-get) and Debian's mirror. Environment: TESTBED_VM_DIR,
# TESTBED_VM_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
umask 022

SELF=$(readlink -f "$0")
BASE=${TESTBED_VM_DIR:-/var/tmp/rampart-vm}
MIRROR=${TESTBED_VM_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
KEY=$(sha256sum "$SELF" | cut -c1-16)
IMG=$BASE/$KEY

# The guest's packages: strongSwan's charon (kernel-netlink and socket-default are built in;
# the openssl/gcm plugins come from libstrongswan-standard-plugins) and swanctl, iproute2 for
# `ip xfrm`, ping, kmod for modprobe, tcpdump to look at the wire, iperf3 for later benchmarks.
GUEST_PACKAGES=iproute2,iputils-ping,kmod,procps,tcpdump,iperf3,strongswan-charon,strongswan-swanctl,libstrongswan-standard-plugins
# Kernel modules the guest loads at boot (guest/lib.sh reads /etc/vm-modules): veth and tun, the
# XFRM user API, ESP and AH for IPv4 and IPv6 with their tunnel handlers. The rootfs gets these
# with their dependencies, and every crypto module (the kernel loads the algorithms an SA names
# on demand, by alias).
GUEST_MODULES="veth tun xfrm_user esp4 esp6 ah4 ah6 xfrm4_tunnel xfrm6_tunnel"
CRYPTO_DIRS="crypto arch/x86/crypto lib/crypto"
# Host tools the build needs.
HOST_PACKAGES=(debootstrap cpio zstd)

log() { echo "build-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -f "$IMG/READY" ]; then
  touch "$IMG/READY" 2>/dev/null || true   # last use, for the clean-up of old images below
  echo "$IMG"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "not root: building the image needs root (debootstrap); run as root or build it once with sudo"

mkdir -p "$BASE"
exec 9>"$BASE/.lock"
flock 9   # one build at a time; a second caller waits, then finds READY
if [ -f "$IMG/READY" ]; then
  echo "$IMG"
  exit 0
fi

t0=$SECONDS
rm -rf "$IMG"
mkdir -p "$IMG/work/debs"
W=$IMG/work
export DEBIAN_FRONTEND=noninteractive

# --- host tools and the libraries qemu-system-x86_64 links against --------------------------
missing=()
for p in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# qemu's shared libraries: the lib* dependencies of qemu-system-x86 (not qemu-system-common's,
# which are for audio/display; the TCG module needs only glib).
[ -n "$(apt-cache policy qemu-system-x86 2>/dev/null | awk '/Candidate/ {print $2}')" ] || apt-get update -qq
for p in $(apt-cache depends --no-recommends --no-suggests qemu-system-x86 | awk '/Depends: (lib|zlib)/ {print $2}'); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    die "cannot install ${missing[*]}"
fi
t_tools=$SECONDS

# --- qemu and the kernel, extracted from their packages (never installed) ---------------------
# The kernel package linux-image-amd64 depends on (e.g. linux-image-6.1.0-56-amd64).
kernel_package() { apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}'; }
fetch() {
  KPKG=$(kernel_package)
  [ -n "$KPKG" ] || return 1
  rm -f "$W"/debs/*.deb
  log "downloading qemu-system-x86, qemu-system-data, qemu-system-common, seabios, $KPKG"
  (cd "$W/debs" && apt-get download -qq -o APT::Sandbox::User=root \
    qemu-system-x86 qemu-system-data qemu-system-common seabios "$KPKG")
}
# Stale package lists name versions the mirror no longer has: refresh them once and retry.
fetch || { apt-get update -qq && fetch; } || die "apt-get download of qemu and the kernel failed"
KVER=${KPKG#linux-image-}
Q=$IMG/qemu
for d in "$W"/debs/qemu-system-x86_*.deb "$W"/debs/qemu-system-data_*.deb "$W"/debs/seabios_*.deb; do
  dpkg -x "$d" "$Q"
done
dpkg -x "$W"/debs/qemu-system-common_*.deb "$W/qemu-common"
mkdir -p "$Q/modules"
cp "$W"/qemu-common/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so "$Q/modules/"
if LD_BIND_NOW=1 ldd "$Q/usr/bin/qemu-system-x86_64" "$Q"/modules/*.so | grep -q "not found"; then
  die "qemu libraries missing: $(ldd "$Q/usr/bin/qemu-system-x86_64" "$Q"/modules/*.so | grep 'not found' | sort -u | tr '\n' ' ')"
fi
QEMU_MODULE_DIR=$Q/modules "$Q/usr/bin/qemu-system-x86_64" -version | head -1 >"$W/qemu-version"
dpkg -x "$W"/debs/"${KPKG}"_*.deb "$W/kernel"
cp "$W/kernel/boot/vmlinuz-$KVER" "$IMG/vmlinuz"
t_fetch=$SECONDS
log "qemu and kernel ready after $((t_fetch - t0)) s"

# --- rootfs ---------------------------------------------------------------------------------
R=$W/rootfs
log "debootstrap $SUITE (minbase + $GUEST_PACKAGES) from $MIRROR"
mkdir -p "$BASE/debootstrap-cache"
debootstrap --variant=minbase --cache-dir="$BASE/debootstrap-cache" --include="$GUEST_PACKAGES" "$SUITE" "$R" "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
  die "debootstrap failed; last lines of $W/debootstrap.log: $(tail -5 "$W/debootstrap.log")"
t_boot=$SECONDS
log "debootstrap done after $((t_boot - t0)) s"
SWAN_VERSION=$(chroot "$R" dpkg-query -W -f='${Version}' strongswan-charon)
# Kernel modules: all of them first (for modprobe's dependency resolution), then only the
# closure of GUEST_MODULES.
M=$W/kernel/lib/modules/$KVER
RM_IN=/lib/modules/$KVER
RM=$R$RM_IN
rm -rf "$R/lib/modules"
mkdir -p "$R/lib/modules"
mv "$M" "$RM"
chroot "$R" depmod "$KVER"
# shellcheck disable=SC2086
chroot "$R" modprobe -S "$KVER" -a --show-depends $GUEST_MODULES >"$W/module-deps" ||
  die "modprobe --show-depends failed for: $GUEST_MODULES"
mkdir -p "$W/keep"
awk '$1 == "insmod" {print $2}' "$W/module-deps" | sort -u | while read -r ko; do
  mkdir -p "$W/keep/$(dirname "$ko")" && cp "$R$ko" "$W/keep/$ko"
done
for d in $CRYPTO_DIRS; do
  mkdir -p "$W/keep$RM_IN/kernel/$d"
  cp -a "$RM/kernel/$d/." "$W/keep$RM_IN/kernel/$d/"
done
mv "$RM" "$M"
mv "$W/keep$RM_IN" "$RM"
cp -a "$M"/modules.builtin "$M"/modules.builtin.modinfo "$M"/modules.order "$RM"/
chroot "$R" depmod "$KVER"
echo $GUEST_MODULES >"$R/etc/vm-modules"
# Trim what a test never reads: docs, locales, the package manager, perl, iconv modules.
rm -rf "$R"/usr/share/{doc,man,info,locale,i18n,lintian,bash-completion,perl,perl5,zoneinfo} \
  "$R"/usr/lib/x86_64-linux-gnu/{gconv,perl-base,perl} "$R"/usr/bin/perl* "$R"/usr/lib/apt \
  "$R"/usr/bin/apt* "$R"/usr/lib/x86_64-linux-gnu/libapt-* "$R"/var/cache/* "$R"/var/lib/apt \
  "$R"/var/lib/dpkg "$R"/var/log/*
# /init comes with each run (guest/init, in the per-run cpio).
rm -f "$R/init"
echo "guest" >"$R/etc/hostname"
(cd "$R" && find . -xdev | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -q -T0 -12 >"$IMG/rootfs.cpio.zst"
t_pack=$SECONDS

{
  echo "key $KEY"
  echo "built $(date -u +%FT%TZ)"
  echo "kernel $KPKG $(dpkg-deb -f "$W"/debs/"${KPKG}"_*.deb Version)"
  echo "qemu $(cat "$W/qemu-version")"
  echo "strongswan $SWAN_VERSION"
  echo "modules $(find "$RM" -name '*.ko*' | wc -l) files"
  echo "rootfs $(du -sm "$R" | cut -f1) MiB, rootfs.cpio.zst $(du -m "$IMG/rootfs.cpio.zst" | cut -f1) MiB"
  echo "seconds tools=$((t_tools - t0)) fetch=$((t_fetch - t_tools)) debootstrap=$((t_boot - t_fetch)) pack=$((t_pack - t_boot)) total=$((t_pack - t0))"
} >"$IMG/info.txt"
rm -rf "$W"
touch "$IMG/READY"
# Other images (other versions of this script: another checkout may be using one right now) go
# when unused for a week; unfinished ones (a build that died) after a day.
for d in "$BASE"/????????????????; do
  [ -d "$d" ] && [ "$d" != "$IMG" ] || continue
  if [ -f "$d/READY" ]; then
    old=$(find "$d/READY" -mtime +7)
  else
    old=$(find "$d" -maxdepth 0 -mtime +1)
  fi
  if [ -n "$old" ]; then rm -rf "$d"; fi
done
sed 's/^/build-image: /' "$IMG/info.txt" >&2
echo "$IMG"
