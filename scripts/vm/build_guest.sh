#!/usr/bin/env bash
# build_guest.sh: a tiny guest for running vtas apps in a QEMU VM — Debian's stock kernel plus an
# initramfs of busybox-static, the VFIO modules, the given binaries and an /init that runs them.
# Both come from Debian packages (apt-get download: nothing is installed on the host).
# Idempotent: the kernel package is downloaded and unpacked once into OUT/cache; the
# initramfs is rebuilt only when an input changed.
#
#   scripts/vm/build_guest.sh --out DIR [--bin FILE]... [--kernel-package NAME] [--noiommu-vfio]
#
# Produces DIR/vmlinuz and DIR/initrd.cpio.gz and prints "kernel=<path> initrd=<path>".
# --noiommu-vfio: the initramfs (DIR/initrd-noiommu.cpio.gz instead) gets a vfio.ko built with
# CONFIG_VFIO_NOIOMMU (build_noiommu_vfio.sh, cached in DIR/cache) in place of Debian's, which
# /init loads with enable_unsafe_noiommu_mode=1: VFIO in a VM without an IOMMU.
# Binaries go to /bin in the guest; dynamically linked ones bring their libraries (ldd), static
# ones are taken as they are. What /init does (see tests/vm/qemu/guest_init.sh): loads the
# VFIO modules, starts `vtas-proxy-guest $vt_proxy_args`, waits for its readiness, runs
# vt_run1..vt_run9 from the kernel command line (commas stand for spaces), prints
# "VTAS-VM ..." lines on the console and powers off.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
init_script="$root/tests/vm/qemu/guest_init.sh"

die() { printf 'build_guest.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'build_guest.sh: %s\n' "$*" >&2; }
# shellcheck source-path=SCRIPTDIR source=guest_kernel.sh
source "$here/guest_kernel.sh"

out="" kernel_package="" noiommu=0
bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --bin) bins+=("$2"); shift 2 ;;
    --kernel-package) kernel_package="$2"; shift 2 ;;
    --noiommu-vfio) noiommu=1; shift ;;
    *) die "unknown argument '$1' (usage: $0 --out DIR [--bin FILE]... [--kernel-package NAME] [--noiommu-vfio])" ;;
  esac
done
[ -n "$out" ] || die "--out DIR is required"
for b in "${bins[@]}"; do [ -x "$b" ] || die "binary $b does not exist or is not executable (build it first)"; done
for tool in apt-get dpkg-deb cpio gzip; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install cpio dpkg gzip"
done
mkdir -p "$out/cache"
out="$(cd "$out" && pwd)"
cache="$out/cache"
# One build at a time per output directory (tests may run in parallel).
exec 9>"$out/.lock"
flock 9

# The kernel: the version linux-image-amd64 points at, unless one is named.
kernel_package="$(guest_kernel_package "$cache" "$kernel_package")"
kdir="$cache/$kernel_package"
if [ ! -f "$kdir/.unpacked" ]; then
  log "downloading $kernel_package"
  rm -rf "$kdir" && mkdir -p "$kdir"
  guest_download "$kdir" "$kernel_package"
  dpkg-deb -x "$kdir"/*.deb "$kdir/root" || die "unpacking $kernel_package failed"
  rm -f "$kdir"/*.deb
  touch "$kdir/.unpacked"
fi
vmlinuz="$(ls "$kdir"/root/boot/vmlinuz-* | head -1)"
moddir="$(ls -d "$kdir"/root/lib/modules/* | head -1)"

# busybox-static: the installed one if it is static, else its package.
busybox=""
if [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; then
  busybox=/bin/busybox
else
  if [ ! -x "$cache/busybox/bin/busybox" ]; then
    log "downloading busybox-static"
    rm -rf "$cache/busybox" && mkdir -p "$cache/busybox"
    guest_download "$cache/busybox" busybox-static
    dpkg-deb -x "$cache/busybox"/*.deb "$cache/busybox" && rm -f "$cache/busybox"/*.deb
  fi
  busybox="$cache/busybox/bin/busybox"
fi

# The modules /init loads (guest_init.sh), from the kernel package but for a no-IOMMU vfio.ko.
initrd="$out/initrd.cpio.gz"
vfio_ko="$moddir/kernel/drivers/vfio/vfio.ko"
if [ "$noiommu" = 1 ]; then
  # build_noiommu_vfio.sh takes its own lock (not DIR/.lock, which this script holds).
  vfio_ko="$("$here/build_noiommu_vfio.sh" --out "$out" --kernel-package "$kernel_package")" ||
    die "no vfio.ko with CONFIG_VFIO_NOIOMMU (build_noiommu_vfio.sh failed, its error is above)"
  initrd="$out/initrd-noiommu.cpio.gz"
fi
module_files=("$moddir/kernel/virt/lib/irqbypass.ko" "$vfio_ko")
for m in vfio_iommu_type1.ko vfio_virqfd.ko pci/vfio-pci-core.ko pci/vfio-pci.ko; do
  module_files+=("$moddir/kernel/drivers/vfio/$m")
done
for m in "${module_files[@]}"; do [ -f "$m" ] || die "$kernel_package has no $m"; done
inputs=("$busybox" "$init_script" "$0" "${bins[@]}" "${module_files[@]}")

stamp="${initrd%.cpio.gz}.inputs"
want="$(printf '%s\n' "${inputs[@]}" | sort)"
fresh=1
if [ ! -f "$initrd" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  fresh=0
else
  for f in "${inputs[@]}"; do [ "$f" -nt "$initrd" ] && fresh=0; done
fi
if [ "$fresh" = 0 ]; then
  staging="${initrd%.cpio.gz}.staging"
  rm -rf "$staging"
  mkdir -p "$staging"/{bin,sbin,dev,proc,sys,tmp,run,lib/modules,lib64,usr/lib}
  cp "$busybox" "$staging/bin/busybox"
  for m in "${module_files[@]}"; do cp "$m" "$staging/lib/modules/"; done
  # Module parameters /init passes to insmod (lib/modules/<name>.args).
  if [ "$noiommu" = 1 ]; then echo "enable_unsafe_noiommu_mode=1" > "$staging/lib/modules/vfio.args"; fi
  cp "$init_script" "$staging/init"
  chmod 755 "$staging/init"
  for b in "${bins[@]}"; do
    cp "$b" "$staging/bin/"
    strip --strip-debug "$staging/bin/$(basename "$b")" 2>/dev/null || true  # smaller: faster boot
    # Dynamically linked: bring the libraries at the paths the loader looks for them.
    if ldd "$b" >/dev/null 2>&1; then
      for lib in $(ldd "$b" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
        mkdir -p "$staging$(dirname "$lib")"
        cp -L "$lib" "$staging$lib"
        strip --strip-debug "$staging$lib" 2>/dev/null || true
      done
    fi
  done
  (cd "$staging" && find . | cpio -o -H newc --quiet | gzip -1 > "$initrd.tmp")
  mv "$initrd.tmp" "$initrd"
  echo "$want" > "$stamp"
  rm -rf "$staging"
fi
cp -u "$vmlinuz" "$out/vmlinuz"
echo "kernel=$out/vmlinuz initrd=$initrd"
