# shellcheck shell=bash
# guest_kernel.sh: sourced (not run) by build_guest.sh and build_noiommu_vfio.sh, so that both
# pick the same guest kernel package and keep their downloads in the same cache.
# The caller defines die() before sourcing.

# Prints the kernel package to use: $2 when given, else the one cached in $1/kernel-package,
# else the one linux-image-amd64 depends on (remembered in $1/kernel-package, so that a later
# apt-get update does not silently change the guest's kernel under an existing cache).
guest_kernel_package() {
  local cache="$1" named="${2:-}" package
  if [ -n "$named" ]; then
    echo "$named"
  elif [ -f "$cache/kernel-package" ]; then
    cat "$cache/kernel-package"
  else
    package="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
    [ -n "$package" ] || die "cannot find the kernel package behind linux-image-amd64 (apt-get update?)"
    echo "$package" > "$cache/kernel-package"
    echo "$package"
  fi
}

# Downloads package(s) "$2"... (name or name=version) into directory $1 with apt-get download;
# dies with apt's last line when that fails.
guest_download() {
  local dir="$1"; shift
  (cd "$dir" && apt-get download "$@" >/dev/null 2>"$dir/apt.log") ||
    die "apt-get download $* failed: $(grep -v '^W:' "$dir/apt.log" | tail -1) (network? apt-get update?)"
}
