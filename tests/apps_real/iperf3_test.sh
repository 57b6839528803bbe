#!/usr/bin/env bash
# iperf3 server and client each way between vtas (LD_PRELOAD) and the Linux peer.
#   iperf3_test.sh BUILD_DIR
set -u
export VTAS_BUILD_DIR=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/vtas_env.sh"
source "$here/check.sh"
command -v iperf3 >/dev/null || { echo "iperf3 missing: apt-get install iperf3"; exit 1; }
trap vtas_env_down EXIT
vtas_env_up i || exit 1
D=$VTAS_ENV_DIR
gbps() {  # bits/s received, from iperf3 -J output
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['end']['sum_received']['bits_per_second']/1e9)" "$1" 2>/dev/null || echo 0
}
# When a run measured nothing, say why: iperf3's own error and the vtas side's last lines.
explain() {
  [ "$(gbps "$1")" = 0 ] || return 0
  python3 -c "import json,sys; print('  iperf3 error:', json.load(open(sys.argv[1])).get('error'))" "$1" 2>/dev/null ||
    { echo "  iperf3 output:"; head -c 600 "$1"; echo; }
  for f in "$D"/server.out "$D"/server.err "$D"/pserver.out; do
    [ -s "$f" ] && { echo "  --- tail of $f"; tail -n 8 "$f"; }
  done
  return 0
}

# Server on vtas (-4: iperf3 listens on IPv6 by default, which is the kernel's).
bg_vtas server iperf3 -s -4 -p 5201
wait_port_vtas 5201 || { cat "$D/server.out"; exit 1; }
in_peer timeout 60 iperf3 -c "$VTAS_IP" -p 5201 -t 3 -J > "$D/up.json"
check "Linux client -> vtas server: $(gbps "$D/up.json") Gbit/s" positive "$(gbps "$D/up.json")"
explain "$D/up.json"
in_peer timeout 60 iperf3 -c "$VTAS_IP" -p 5201 -t 3 -R -J > "$D/down.json"
check "vtas server -> Linux client (-R): $(gbps "$D/down.json") Gbit/s" positive "$(gbps "$D/down.json")"
explain "$D/down.json"

# Server on the peer, client on vtas.
bg_peer pserver iperf3 -s -p 5202
wait_port_peer 5202 || exit 1
on_vtas timeout 60 iperf3 -c "$PEER_IP" -p 5202 -t 3 -J > "$D/c_up.json"
check "vtas client -> Linux server: $(gbps "$D/c_up.json") Gbit/s" positive "$(gbps "$D/c_up.json")"
explain "$D/c_up.json"
on_vtas timeout 60 iperf3 -c "$PEER_IP" -p 5202 -t 3 -R -J > "$D/c_down.json"
check "Linux server -> vtas client (-R): $(gbps "$D/c_down.json") Gbit/s" positive "$(gbps "$D/c_down.json")"
explain "$D/c_down.json"
finish
