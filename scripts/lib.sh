# Shared by the README's commands (demo.sh, test.sh). Sourced, not run.
# Everything here is idempotent: a second run only checks and returns.

VTAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VTAS_BUILD="${VTAS_BUILD:-$VTAS_ROOT/build}"

# Debian 12 packages the build and the tests need.
VTAS_PACKAGES=(
  build-essential cmake ninja-build pkg-config git rsync
  dpdk libdpdk-dev libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libgtest-dev libbenchmark-dev
  iproute2 nftables ethtool procps psmisc python3
)

log() { printf '\033[1m[vtas]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[vtas] error:\033[0m %s\n' "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" = 0 ] || die "run as root (it installs packages, sets up hugepages and network namespaces): sudo $0"
}

install_packages() {
  local missing=()
  for p in "${VTAS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "packages: all ${#VTAS_PACKAGES[@]} present"
    return
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install failed"
}

# 2 MiB hugepages for DPDK and the shared-memory regions. Best effort: vtas falls back to
# --fp-no-hugepages / --no-huge where they are missing.
setup_hugepages() {
  local want=${VTAS_HUGEPAGES:-256}
  local have
  have=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
  if [ "$have" -lt "$want" ]; then
    echo "$want" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
  fi
  mkdir -p /dev/hugepages
  mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
  log "hugepages: $(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0) x 2 MiB"
}

# configure_and_build DIR [cmake args...]
configure_and_build() {
  local dir=$1; shift
  cmake -S "$VTAS_ROOT" -B "$dir" -G Ninja "$@" >/dev/null || die "cmake configure failed in $dir"
  log "building in $dir"
  ninja -C "$dir" -j"$(nproc)" || die "build failed in $dir"
}
