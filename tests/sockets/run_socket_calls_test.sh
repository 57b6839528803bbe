#!/usr/bin/env bash
# Runs socket_calls_test against sockets_peer, either on plain Linux or on vtas:
#   run_socket_calls_test.sh kernel|vtas BUILD_DIR [gtest args...]
# kernel: the test and the peer run in a fresh network namespace, over its loopback.
# vtas:   a vtas instance with the peer in a namespace (tests/apps_real/vtas_env.sh); the test
#         runs with LD_PRELOAD=libvtas_interpose.so. Same test binary, same expectations.
set -u
mode=$1
export VTAS_BUILD_DIR=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
test_bin=$VTAS_BUILD_DIR/bin/socket_calls_test
peer_bin=$VTAS_BUILD_DIR/bin/sockets_peer
base=$(( 20000 + $$ % 20000 ))
source "$here/../apps_real/vtas_env.sh"

case $mode in
  kernel)
    ns=vtas-calls$$
    ip netns add "$ns" || exit 1
    trap 'kill -9 $peer 2>/dev/null; ip netns del '"$ns"' 2>/dev/null' EXIT
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" "$peer_bin" "$base" > /tmp/vtas-calls-peer.$$ 2>&1 &
    peer=$!
    for _ in $(seq 1 100); do grep -q ready /tmp/vtas-calls-peer.$$ && break; sleep 0.05; done
    rm -f /tmp/vtas-calls-peer.$$
    SOCKETS_MODE=kernel PEER_IP=127.0.0.1 PEER_BASE=$base ip netns exec "$ns" "$test_bin" "$@"
    ;;
  vtas)
    trap vtas_env_down EXIT
    vtas_env_up c || exit 1
    bg_peer peer "$peer_bin" "$base"
    for _ in $(seq 1 100); do grep -q ready "$VTAS_ENV_DIR/peer.out" && break; sleep 0.05; done
    wait_vtas_path "$base" || exit 1
    SOCKETS_MODE=vtas PEER_IP=$PEER_IP PEER_BASE=$base LD_PRELOAD=$PRELOAD "$test_bin" "$@"
    ;;
  *)
    echo "usage: $0 kernel|vtas BUILD_DIR [gtest args]" >&2
    exit 2
    ;;
esac
