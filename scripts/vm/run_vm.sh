#!/usr/bin/env bash
# run_vm.sh: boots the test guest (scripts/vm/build_guest.sh) in QEMU, attached to a running
# vtas instance's host proxy, and runs commands inside it — the manual counterpart of
# tests/vm/qemu. Software emulation always (-accel tcg: KVM hangs on these machines).
#
#   scripts/vm/run_vm.sh --build DIR --runtime-dir RUNTIME [--run 'CMD ARGS...']... [--timeout S] [--noiommu]
#
# DIR is a build directory (its tests/vm/qemu/static/ binaries go into the guest); RUNTIME the
# instance's runtime directory (its ivshmem.sock; the manifest needs
# `actor { name: "proxy-host" kind: "proxy-host" }`). Each --run is a command in the guest,
# e.g. --run 'vtas_ll_tool connect 10.0.0.2 7000 --bytes 1048576'. The guest's console
# ("VTAS-VM ..." lines, see tests/vm/qemu/guest_init.sh) goes to stdout; exits when the guest
# powers off, 0 iff the guest proxy came up and every command exited 0.
# --noiommu: a VM without an IOMMU whose guest binds through VFIO's no-IOMMU mode (a vfio.ko
# built with CONFIG_VFIO_NOIOMMU, see build_noiommu_vfio.sh); default: QEMU's intel-iommu, type1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
die() { printf 'run_vm.sh: error: %s\n' "$*" >&2; exit 1; }

build="" runtime="" timeout_s=300 noiommu=0
runs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --runtime-dir) runtime="$2"; shift 2 ;;
    --run) runs+=("$2"); shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --noiommu) noiommu=1; shift ;;
    *) die "unknown argument '$1' (usage: $0 --build DIR --runtime-dir RUNTIME [--run 'CMD']... [--timeout S] [--noiommu])" ;;
  esac
done
[ -n "$build" ] && [ -n "$runtime" ] || die "--build and --runtime-dir are required"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing: apt-get install qemu-system-x86"
static="$build/tests/vm/qemu/static"
[ -x "$static/vtas-proxy-guest" ] && [ -x "$static/vtas_ll_tool" ] ||
  die "no static guest binaries in $static: ninja -C $build vtas-proxy-guest-static vtas_ll_tool_static"
[ -S "$runtime/ivshmem.sock" ] || die "$runtime/ivshmem.sock is not a socket: is vtas running with the proxy-host actor?"
[ ${#runs[@]} -le 9 ] || die "at most 9 --run commands"

# shellcheck disable=SC2054  # the commas are QEMU's
machine=(-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on)
guest_args=()
params=""
if [ "$noiommu" = 1 ]; then
  machine=(-machine q35)
  guest_args=(--noiommu-vfio)
  params=" vt_proxy_args=--vfio-mode,noiommu"
fi
guest="$("$here/build_guest.sh" --out "$build/tests/vm/qemu/guest" --bin "$static/vtas-proxy-guest" \
  --bin "$static/vtas_ll_tool" "${guest_args[@]}")"
initrd="${guest##*initrd=}"
i=1
for r in "${runs[@]}"; do
  case "$r" in *,*) die "--run '$r': commas cannot pass through the kernel command line" ;; esac
  params+=" vt_run$i=$(echo "$r" | tr -s ' ' ',')"
  i=$((i + 1))
done
bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
console="$(mktemp /tmp/vtas-vm-console.XXXXXX)"
trap 'rm -f "$console"' EXIT
timeout --signal=KILL "$timeout_s" qemu-system-x86_64 -accel tcg "${bios[@]}" "${machine[@]}" -m 384 -smp 1 \
  -nodefaults -no-user-config -nic none -display none -monitor none -serial stdio -no-reboot \
  -kernel "$build/tests/vm/qemu/guest/vmlinuz" -initrd "$initrd" \
  -append "console=ttyS0 quiet panic=-1 intel_iommu=on no_timer_check VTAS_DEBUG=1$params" \
  -chardev "socket,path=$runtime/ivshmem.sock,id=vtas" -device ivshmem-doorbell,vectors=1,chardev=vtas \
  </dev/null | tee "$console" || die "QEMU failed or timed out after ${timeout_s}s"
grep -q "VTAS-VM proxy ready" "$console" || exit 1
! grep -E "VTAS-VM run[0-9] exit=" "$console" | grep -qv "exit=0 "
