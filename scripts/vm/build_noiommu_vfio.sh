#!/usr/bin/env bash
# build_noiommu_vfio.sh: a vfio.ko for the test guest's kernel (the one build_guest.sh uses)
# built with CONFIG_VFIO_NOIOMMU, which Debian's stock vfio.ko lacks — so that the guest proxy
# can bind the ivshmem device through /dev/vfio/noiommu-<group> in a VM without an IOMMU.
# Called by build_guest.sh --noiommu-vfio; can be run alone.
#
#   scripts/vm/build_noiommu_vfio.sh --out DIR [--kernel-package NAME]
#
# DIR is build_guest.sh's --out directory; the module is cached in
# DIR/cache/noiommu-vfio-<kernel package>/vfio.ko, whose path is printed on stdout. A second run
# only prints that path. Everything comes from Debian packages fetched with apt-get download
# (nothing is installed on the host): linux-source-6.1 (only drivers/vfio is unpacked),
# linux-headers-<abi>-amd64, linux-headers-<abi>-common and linux-kbuild-6.1, all of the
# kernel package's exact version. The host needs the compiler the headers name (gcc-12 on
# Debian 12), make, xz, objcopy and libelf (build-essential xz-utils libelf1;
# scripts/lib.sh installs them).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { printf 'build_noiommu_vfio.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'build_noiommu_vfio.sh: %s\n' "$*" >&2; }
# shellcheck source-path=SCRIPTDIR source=guest_kernel.sh
source "$here/guest_kernel.sh"

out="" kernel_package=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --kernel-package) kernel_package="$2"; shift 2 ;;
    *) die "unknown argument '$1' (usage: $0 --out DIR [--kernel-package NAME])" ;;
  esac
done
[ -n "$out" ] || die "--out DIR is required"
mkdir -p "$out/cache"
cache="$(cd "$out/cache" && pwd)"
kernel_package="$(guest_kernel_package "$cache" "$kernel_package")"
result="$cache/noiommu-vfio-$kernel_package"
if [ -f "$result/.built" ]; then
  echo "$result/vfio.ko"
  exit 0
fi
# One build at a time per cache (build_guest.sh holds its own lock on DIR/.lock meanwhile).
exec 8>"$cache/noiommu-vfio.lock"
flock 8
if [ -f "$result/.built" ]; then
  echo "$result/vfio.ko"
  exit 0
fi

for tool in apt-get apt-cache dpkg-deb tar xz make objcopy; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install build-essential xz-utils libelf1"
done

# linux-image-6.1.0-56-amd64 -> ABI 6.1.0-56, flavour amd64, series 6.1; version 6.1.192-2.
case "$kernel_package" in
  linux-image-[0-9]*-amd64) ;;
  *) die "kernel package '$kernel_package' is not of the form linux-image-<abi>-amd64" ;;
esac
abi="${kernel_package#linux-image-}"
abi="${abi%-amd64}"
series="$(echo "$abi" | cut -d. -f1,2)"
version="$( (apt-cache show "$kernel_package" 2>/dev/null || true) | awk '/^Version:/ {print $2; exit}')"
[ -n "$version" ] || die "apt knows no $kernel_package (apt-get update?)"

# The headers of an ABI exist in that ABI's versions only; linux-source and linux-kbuild carry
# every version, so ask for the kernel's. Should the exact linux-source be gone, the newest with
# the same upstream version (only the Debian revision differs) almost surely has the same
# drivers/vfio; the vermagic and symbol CRC checks below catch an ABI mismatch.
available() { (apt-cache madison "$1" 2>/dev/null || true) | awk '{print $3}'; }
source_version="$version"
if ! available "linux-source-$series" | grep -qx "$version"; then
  source_version="$(available "linux-source-$series" | grep "^${version%-*}-" | head -1 || true)"
  [ -n "$source_version" ] || die "no linux-source-$series of version ${version%-*} (the kernel's $version); " \
    "available: $(available "linux-source-$series" | tr '\n' ' ')— pass another --kernel-package or apt-get update"
  log "linux-source-$series $version is not available; using $source_version (same upstream version)"
fi
for p in "linux-headers-$abi-amd64" "linux-headers-$abi-common" "linux-kbuild-$series"; do
  available "$p" | grep -qx "$version" || die "$p $version is not available (apt-cache madison $p; apt-get update?)"
done

work="$cache/noiommu-vfio.work"
rm -rf "$work" "$result"
mkdir -p "$work/debs" "$work/root" "$work/src"
trap 'rm -rf "$work"' EXIT
log "downloading the sources and headers of $kernel_package $version"
guest_download "$work/debs" "linux-source-$series=$source_version" "linux-headers-$abi-amd64=$version" \
  "linux-headers-$abi-common=$version" "linux-kbuild-$series=$version"
for deb in "$work"/debs/linux-headers-*.deb "$work"/debs/linux-kbuild-*.deb; do
  dpkg-deb -x "$deb" "$work/root" || die "unpacking $deb failed"
done
# Only drivers/vfio out of the 140 MB source tarball.
dpkg-deb --fsys-tarfile "$work"/debs/linux-source-*.deb |
  tar -xO "./usr/src/linux-source-$series.tar.xz" |
  tar -xJ -C "$work/src" "linux-source-$series/drivers/vfio" ||
  die "extracting drivers/vfio from linux-source-$series $source_version failed"
rm -rf "$work/debs"

headers="$work/root/usr/src/linux-headers-$abi-amd64"
[ -f "$headers/.config" ] || die "linux-headers-$abi-amd64 has no .config"
# The flavour's Makefile includes the common headers at their installed path; point it here.
sed -i "s|^include /usr/src/linux-headers-$abi-common/Makefile|include $work/root/usr/src/linux-headers-$abi-common/Makefile|" \
  "$headers/Makefile"
grep -q "^include $work/" "$headers/Makefile" || die "unexpected $headers/Makefile: $(cat "$headers/Makefile")"
compiler="$(sed -n 's/^CC = .*\(gcc-[0-9]*\)$/\1/p' "$headers/.kernelvariables")"
[ -n "$compiler" ] || die "cannot tell the compiler from $headers/.kernelvariables"
command -v "$compiler" >/dev/null ||
  die "$compiler is missing (the kernel was built with $(grep CONFIG_CC_VERSION_TEXT "$headers/.config")): apt-get install $compiler"

# vfio.ko as drivers/vfio/Makefile builds it, plus CONFIG_VFIO_NOIOMMU. The option is only read
# inside drivers/vfio (vfio.h, container.c), so the other VFIO modules of the stock kernel work
# with this vfio.ko unchanged (the exported symbols' CRCs are checked below).
module="$work/src/linux-source-$series/drivers/vfio"
printf '%s\n' 'obj-m := vfio.o' 'vfio-y := vfio_main.o iova_bitmap.o container.o' \
  'ccflags-y += -DCONFIG_VFIO_NOIOMMU=1' > "$module/Kbuild"
log "building vfio.ko with CONFIG_VFIO_NOIOMMU ($compiler)"
make -C "$headers" M="$module" modules -j2 >"$work/make.log" 2>&1 ||
  die "building vfio.ko failed: $(tail -5 "$work/make.log")"

# vermagic must be the guest kernel's (else insmod refuses it), and the module must have the
# no-IOMMU parameter.
modinfo_of() { objcopy -O binary --only-section=.modinfo "$1" /dev/stdout | tr '\0' '\n'; }
want_vermagic="$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$headers/include/generated/utsrelease.h")"
vermagic="$(modinfo_of "$module/vfio.ko" | sed -n 's/^vermagic=//p')"
case "$vermagic" in
  "$want_vermagic "*) ;;
  *) die "the built vfio.ko has vermagic '$vermagic', the kernel is $want_vermagic" ;;
esac
modinfo_of "$module/vfio.ko" | grep -q '^parm=enable_unsafe_noiommu_mode:' ||
  die "the built vfio.ko has no enable_unsafe_noiommu_mode parameter"
# Its exports (name and CRC) must be the stock vfio.ko's, which vfio-pci-core.ko was linked to.
stock_symbols="$(awk '$3 == "drivers/vfio/vfio" {print $1, $2}' "$headers/Module.symvers" | sort)"
built_symbols="$(awk '{print $1, $2}' "$module/Module.symvers" | sort)"
if [ -z "$stock_symbols" ] || [ "$stock_symbols" != "$built_symbols" ]; then
  die "the built vfio.ko's exported symbols differ from the stock one's: $(diff <(echo "$stock_symbols") <(echo "$built_symbols") | head -5)"
fi

mkdir -p "$result"
cp "$module/vfio.ko" "$result/vfio.ko"
echo "$kernel_package $version; linux-source-$series $source_version; vermagic ${vermagic% }" > "$result/built-from"
touch "$result/.built"
log "built $result/vfio.ko ($(cat "$result/built-from"))"
echo "$result/vfio.ko"
