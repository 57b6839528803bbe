# A vtas instance with a Linux peer, for the real-application tests and benchmarks (sourced).
#
#   vtas_env_up TAG      network namespace + veth pair, the Linux peer's address inside it,
#                        vtas (fastpath, arp, timer, conn) on the other end; exports
#                        VTAS_RUNTIME_DIR, VTAS_IP, PEER_IP, PEER_NS, VTAS_ENV_DIR, PRELOAD
#   vtas_env_down        stops vtas and everything started with bg_*, removes what up made
#   in_peer CMD...       runs CMD in the peer's namespace
#   on_vtas CMD...       runs CMD with LD_PRELOAD=libvtas_interpose.so
#   bg_peer NAME CMD...  / bg_vtas NAME CMD...  the same in the background; output in
#                        $VTAS_ENV_DIR/NAME.out, pid in BG_PID; killed by vtas_env_down
#   wait_port_peer PORT  / wait_log FILE TEXT   readiness waits (bounded)
#
# Needs root (namespaces), and the build directory in VTAS_BUILD_DIR (bin/vtas,
# lib/libvtas_interpose.so). Addresses: 10.78.<n>.0/24 per process (the lead's TCP tests
# use 10.77.x), so parallel runs never collide.

VTAS_ENV_PIDS=()

vtas_env_fail() {
  echo "vtas_env: $*" >&2
  return 1
}

vtas_env_up() {
  local tag=${1:-a}
  local build=${VTAS_BUILD_DIR:?set VTAS_BUILD_DIR to the build directory}
  local id=$(( $$ % 100000 ))$tag
  local subnet=$(( 1 + $$ % 200 ))
  PEER_NS=vtas-ns$id
  VTAS_FP_IF=vtf$id
  VTAS_PEER_IF=vtp$id
  VTAS_IP=10.78.$subnet.1
  PEER_IP=10.78.$subnet.2
  VTAS_ENV_DIR=$(mktemp -d /tmp/vtas-apps.XXXXXX)
  VTAS_RUNTIME_DIR=$VTAS_ENV_DIR/run
  PRELOAD=$build/lib/libvtas_interpose.so
  export VTAS_RUNTIME_DIR VTAS_IP PEER_IP PEER_NS VTAS_ENV_DIR PRELOAD
  ip netns add "$PEER_NS" || return 1
  ip link add "$VTAS_FP_IF" type veth peer name "$VTAS_PEER_IF" || return 1
  ip link set "$VTAS_PEER_IF" netns "$PEER_NS" || return 1
  sysctl -qw "net.ipv6.conf.$VTAS_FP_IF.disable_ipv6=1"
  ip link set "$VTAS_FP_IF" up || return 1
  ip netns exec "$PEER_NS" ip link set lo up
  ip netns exec "$PEER_NS" ip addr add "$PEER_IP/24" dev "$VTAS_PEER_IF" || return 1
  ip netns exec "$PEER_NS" ip link set "$VTAS_PEER_IF" up || return 1
  ethtool -K "$VTAS_FP_IF" tx off rx off tso off gso off gro off >/dev/null 2>&1
  ip netns exec "$PEER_NS" ethtool -K "$VTAS_PEER_IF" tx off rx off tso off gso off gro off \
    >/dev/null 2>&1
  cat > "$VTAS_ENV_DIR/manifest.txtpb" <<EOF
instance: "apps$id"
runtime_dir: "$VTAS_RUNTIME_DIR"
supervision { heartbeat_interval_ms: 100 heartbeat_timeout_ms: 2000 }
network { ip_addr: "$VTAS_IP/24" device: "net_af_packet0,iface=$VTAS_FP_IF" }
tas { fp_no_hugepages: true fp_poll_interval_tas: 2000 tcp_rxbuf_len: 262144 tcp_txbuf_len: 262144 ${VTAS_EXTRA_TAS:-} }
actor { name: "fastpath" kind: "fastpath" }
actor { name: "arp" kind: "arp" }
actor { name: "timer" kind: "timer" }
actor { name: "conn" kind: "conn" }
EOF
  mkfifo "$VTAS_ENV_DIR/ready"
  "$build/bin/vtas" --manifest "$VTAS_ENV_DIR/manifest.txtpb" --ready-fd=3 \
    3>"$VTAS_ENV_DIR/ready" 2>"$VTAS_ENV_DIR/vtas.err" &
  VTAS_PID=$!
  local ready
  ready=$(timeout 30 od -An -tu8 -N8 "$VTAS_ENV_DIR/ready" | tr -d ' ')
  if [ "$ready" != 1 ]; then
    vtas_env_fail "vtas did not become ready; its stderr:"
    tail -20 "$VTAS_ENV_DIR/vtas.err" >&2
    return 1
  fi
}

vtas_env_down() {
  local pid
  # Each background program leads its own process group (setsid): killing the group takes
  # its children too (nginx's workers outlive a killed master otherwise).
  for pid in "${VTAS_ENV_PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null
  done
  for pid in "${VTAS_ENV_PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  VTAS_ENV_PIDS=()
  if [ -n "${VTAS_PID:-}" ]; then
    kill -TERM "$VTAS_PID" 2>/dev/null
    local i
    for i in $(seq 1 100); do kill -0 "$VTAS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$VTAS_PID" 2>/dev/null
    wait "$VTAS_PID" 2>/dev/null
    VTAS_PID=
  fi
  [ -n "${PEER_NS:-}" ] && ip netns del "$PEER_NS" 2>/dev/null
  [ -n "${VTAS_FP_IF:-}" ] && ip link del "$VTAS_FP_IF" 2>/dev/null
  [ -n "${VTAS_ENV_DIR:-}" ] && [ -z "${VTAS_KEEP_DIR:-}" ] && rm -rf "$VTAS_ENV_DIR"
  return 0
}

in_peer() { ip netns exec "$PEER_NS" "$@"; }
on_vtas() { LD_PRELOAD=$PRELOAD "$@"; }

bg_peer() {
  local name=$1; shift
  setsid ip netns exec "$PEER_NS" "$@" >"$VTAS_ENV_DIR/$name.out" 2>&1 &
  BG_PID=$!
  VTAS_ENV_PIDS+=("$BG_PID")
}

bg_vtas() {
  local name=$1; shift
  LD_PRELOAD=$PRELOAD setsid "$@" >"$VTAS_ENV_DIR/$name.out" 2>&1 &
  BG_PID=$!
  VTAS_ENV_PIDS+=("$BG_PID")
}

# Waits (up to 20 s) until something listens on PORT in the peer's namespace.
wait_port_peer() {
  local i
  for i in $(seq 1 200); do
    in_peer ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  vtas_env_fail "nothing listens on port $1 in the peer namespace"
}

# Waits (up to 20 s) until vtas has a listener on PORT.
wait_port_vtas() {
  # The service's own listener table, not a probe connection: servers such as iperf3 take the
  # first connection as a session, and a probe's would race with the real client's.
  local i
  for i in $(seq 1 200); do
    "$VTAS_BUILD_DIR/bin/vtasctl" --runtime-dir "$VTAS_RUNTIME_DIR" stats 2>/dev/null |
      grep -Eq "^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+:$1 " && return 0
    sleep 0.1
  done
  vtas_env_fail "nothing listens on port $1 in vtas (vtasctl stats shows no such listener)"
}

# Waits (up to 10 s) until an echo round trip through vtas to PEER_IP:PORT (an echo server in
# the peer) works: the service's readiness signal comes before its first connection does.
wait_vtas_path() {
  local i
  for i in $(seq 1 50); do
    # python's socket module calls libc's socket functions (bash's /dev/tcp writes with
    # stdio, which libc does not route through the interposed write).
    LD_PRELOAD=$PRELOAD timeout 2 python3 -c "
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
s.sendall(b'ping')
sys.exit(0 if s.recv(4) == b'ping' else 1)" "$PEER_IP" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  vtas_env_fail "no echo round trip through vtas to $PEER_IP:$1"
}
