#!/usr/bin/env bash
# build_guest.sh: a tiny guest for running vtas apps in a QEMU VM — Debian's stock kernel plus an
# initramfs of busybox-static, the VFIO modules, the given binaries and an /init that runs them.
# Both come from Debian packages (apt-get download: nothing is installed on the host).
# Idempotent: the kernel package is downloaded and unpacked once into OUT/cache; the
# initramfs is rebuilt only when an input changed.
#
#   scripts/vm/build_guest.sh --out DIR [--bin FILE]... [--kernel-package NAME]
#
# Produces DIR/vmlinuz and DIR/initrd.cpio.gz and prints "kernel=<path> initrd=<path>".
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

out="" kernel_package=""
bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --bin) bins+=("$2"); shift 2 ;;
    --kernel-package) kernel_package="$2"; shift 2 ;;
    *) die "unknown argument '$1' (usage: $0 --out DIR [--bin FILE]... [--kernel-package NAME])" ;;
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
if [ -z "$kernel_package" ]; then
  if [ -f "$cache/kernel-package" ]; then
    kernel_package="$(cat "$cache/kernel-package")"
  else
    kernel_package="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    [ -n "$kernel_package" ] || die "cannot find the kernel package behind linux-image-amd64 (apt-get update?)"
    echo "$kernel_package" > "$cache/kernel-package"
  fi
fi
kdir="$cache/$kernel_package"
if [ ! -f "$kdir/.unpacked" ]; then
  log "downloading $kernel_package"
  rm -rf "$kdir" && mkdir -p "$kdir"
  (cd "$kdir" && apt-get download "$kernel_package" >/dev/null 2>"$kdir/apt.log") ||
    die "apt-get download $kernel_package failed: $(tail -1 "$kdir/apt.log") (network? apt-get update?)"
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
    (cd "$cache/busybox" && apt-get download busybox-static >/dev/null 2>&1) || die "apt-get download busybox-static failed"
    dpkg-deb -x "$cache/busybox"/*.deb "$cache/busybox" && rm -f "$cache/busybox"/*.deb
  fi
  busybox="$cache/busybox/bin/busybox"
fi

modules=(virt/lib/irqbypass.ko drivers/vfio/vfio.ko drivers/vfio/vfio_iommu_type1.ko
         drivers/vfio/vfio_virqfd.ko drivers/vfio/pci/vfio-pci-core.ko drivers/vfio/pci/vfio-pci.ko)
inputs=("$busybox" "$init_script" "$0" "${bins[@]}")
for m in "${modules[@]}"; do
  [ -f "$moddir/kernel/$m" ] || die "$kernel_package has no $m"
  inputs+=("$moddir/kernel/$m")
done

initrd="$out/initrd.cpio.gz"
stamp="$out/initrd.inputs"
want="$(printf '%s\n' "${inputs[@]}" | sort)"
fresh=1
if [ ! -f "$initrd" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  fresh=0
else
  for f in "${inputs[@]}"; do [ "$f" -nt "$initrd" ] && fresh=0; done
fi
if [ "$fresh" = 0 ]; then
  staging="$out/initrd.staging"
  rm -rf "$staging"
  mkdir -p "$staging"/{bin,sbin,dev,proc,sys,tmp,run,lib/modules,lib64,usr/lib}
  cp "$busybox" "$staging/bin/busybox"
  for m in "${modules[@]}"; do cp "$moddir/kernel/$m" "$staging/lib/modules/"; done
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
