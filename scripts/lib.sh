# Shared by the README's commands (demo.sh, test.sh). Sourced, not run.
# Everything here is idempotent: a second run only checks and returns.

VTAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VTAS_BUILD="${VTAS_BUILD:-$VTAS_ROOT/build}"

# Debian 12 packages the build and the tests need.
VTAS_PACKAGES=(
  build-essential cmake ninja-build pkg-config git rsync
  dpdk libdpdk-dev libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libgtest-dev libbenchmark-dev
  iproute2 nftables ethtool procps psmisc python3 python3-matplotlib python3-scapy
  redis-server redis-tools nginx curl wrk iperf3
  qemu-system-x86 qemu-utils busybox-static cpio xz-utils libelf1
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

# The default runtime directories (/run/vtas/<instance>) hold shared-memory files: they belong
# on a memory filesystem. /run is a tmpfs on a normal host but not in every container (not on
# this project's build machines); then mount one on /run/vtas. Idempotent.
setup_runtime_tmpfs() {
  mkdir -p /run/vtas
  if [ "$(stat -f -c %T /run/vtas)" != tmpfs ]; then
    if mount -t tmpfs -o mode=0755,size=1g vtas-run /run/vtas; then
      log "mounted a tmpfs on /run/vtas (/run is not one here)"
    else
      log "could not mount a tmpfs on /run/vtas: instances there will warn that they are on a disk"
    fi
  fi
}

# configure_and_build DIR [cmake args...]
configure_and_build() {
  local dir=$1; shift
  cmake -S "$VTAS_ROOT" -B "$dir" -G Ninja "$@" >/dev/null || die "cmake configure failed in $dir"
  log "building in $dir"
  ninja -C "$dir" -j"$(nproc)" || die "build failed in $dir"
}

# The embedded default network (manifests/default.txtpb): a veth pair `vtas0` <-> `vtas0-peer`,
# the peer end in namespace `vtas-peer` with 10.77.0.2/24. Offloads off on both ends, so frames
# on the wire are complete (filled checksums, no GSO super-frames) as from a real NIC.
VTAS_DEMO_NS=vtas-peer
VTAS_DEMO_IF=vtas0
VTAS_DEMO_PEER_IF=vtas0-peer
VTAS_DEMO_IP=10.77.0.1
VTAS_DEMO_PEER_IP=10.77.0.2

demo_network_up() {
  demo_network_down
  ip netns add "$VTAS_DEMO_NS" || die "cannot create network namespace $VTAS_DEMO_NS"
  ip link add "$VTAS_DEMO_IF" type veth peer name "$VTAS_DEMO_PEER_IF"
  ip link set "$VTAS_DEMO_PEER_IF" netns "$VTAS_DEMO_NS"
  sysctl -qw "net.ipv6.conf.$VTAS_DEMO_IF.disable_ipv6=1"
  ip link set "$VTAS_DEMO_IF" up
  ip netns exec "$VTAS_DEMO_NS" ip link set lo up
  ip netns exec "$VTAS_DEMO_NS" ip addr add "$VTAS_DEMO_PEER_IP/24" dev "$VTAS_DEMO_PEER_IF"
  ip netns exec "$VTAS_DEMO_NS" ip link set "$VTAS_DEMO_PEER_IF" up
  ethtool -K "$VTAS_DEMO_IF" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$VTAS_DEMO_NS" ethtool -K "$VTAS_DEMO_PEER_IF" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  log "network: $VTAS_DEMO_IF (vtas, $VTAS_DEMO_IP) <-> $VTAS_DEMO_PEER_IF in netns $VTAS_DEMO_NS ($VTAS_DEMO_PEER_IP)"
}

demo_network_down() {
  ip netns del "$VTAS_DEMO_NS" 2>/dev/null || true
  ip link del "$VTAS_DEMO_IF" 2>/dev/null || true
}

# Free 2 MiB hugepages, for choosing --fp-no-hugepages when there are too few.
free_hugepages() { awk '/HugePages_Free/ {print $2}' /proc/meminfo; }
