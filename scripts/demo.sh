#!/usr/bin/env bash
# The README's main command. Builds vtas and runs it for real: the fast path on DPDK
# (net_af_packet on a veth), the conn/arp/timer actors, an echo app on vtas (libvtas), and the
# Linux kernel as the TCP peer in a namespace. Shows latency and throughput from the Linux
# client, a kill -9 of `conn` during a transfer (the transfer does not notice), a trace of
# one connection's control messages, and the stats table. Stops and removes all it started.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
install_packages
setup_hugepages
setup_runtime_tmpfs
configure_and_build "$VTAS_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo
BIN="$VTAS_BUILD/bin"
INSTANCE=vtas
PEER=(ip netns exec "$VTAS_DEMO_NS")
LOG=$(mktemp /tmp/vtas-demo.XXXXXX.log)
VTAS_PID= APP_PID=
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
  [ -n "$VTAS_PID" ] && kill "$VTAS_PID" 2>/dev/null && wait "$VTAS_PID" 2>/dev/null
  demo_network_down
  rm -f "$LOG"
}
trap cleanup EXIT

step() { printf '\n\033[1;36m== %s\033[0m\n' "$*"; }
ctl() { "$BIN/vtasctl" --instance "$INSTANCE" "$@"; }
actor_field() {
  ctl --json status | python3 -c "import json,sys; print([a.get('$2','') for a in json.load(sys.stdin)['actors'] if a['name']=='$1'][0])"
}
wait_for() {  # ACTOR FIELD VALUE: the status has no event to wait on; poll it
  for _ in $(seq 200); do [ "$(actor_field "$1" "$2")" = "$3" ] && return 0; sleep 0.05; done
  return 1
}

demo_network_up
EXTRA=()
if [ "$(free_hugepages)" -lt 64 ]; then
  log "fewer than 64 free hugepages: running with --fp-no-hugepages"
  EXTRA+=(--fp-no-hugepages)
fi

step "starting vtas (embedded default manifest: manifests/default.txtpb)"
READY_FIFO=$(mktemp -u /tmp/vtas-ready.XXXXXX); mkfifo -m 600 "$READY_FIFO"
"$BIN/vtas" "${EXTRA[@]}" --ready-fd=3 3>"$READY_FIFO" 2>"$LOG" &
VTAS_PID=$!
READY_BYTES=$(head -c 8 "$READY_FIFO" | wc -c); rm -f "$READY_FIFO"
[ "$READY_BYTES" = 8 ] || { cat "$LOG"; die "vtas did not become ready"; }
ctl status

step "an echo server on vtas (tests/apps/vtas_ll_tool, the low-level flextcp API)"
APP_OUT=$(mktemp /tmp/vtas-app.XXXXXX)
VTAS_INSTANCE=$INSTANCE "$BIN/vtas_ll_tool" serve 7000 --echo >"$APP_OUT" 2>&1 &
APP_PID=$!
for _ in $(seq 200); do grep -q listening "$APP_OUT" && break; sleep 0.05; done
cat "$APP_OUT"

step "latency: the Linux client (kernel sockets) does 64-byte request/response round trips"
"${PEER[@]}" "$BIN/kernel_tcp_tool" connect "$VTAS_DEMO_IP" 7000 --requests 20000 --size 64 --conns 1 | tail -1
"${PEER[@]}" "$BIN/kernel_tcp_tool" connect "$VTAS_DEMO_IP" 7000 --requests 50000 --size 64 --conns 32 | tail -1

step "throughput: 256 MiB echoed back (the client checks every byte)"
"${PEER[@]}" "$BIN/kernel_tcp_tool" connect "$VTAS_DEMO_IP" 7000 --bytes 268435456 --echo | tail -2

step "kill -9 of 'conn' during a 128 MiB transfer: the supervisor restarts it; the transfer goes on"
"${PEER[@]}" "$BIN/kernel_tcp_tool" connect "$VTAS_DEMO_IP" 7000 --bytes 134217728 --echo > "$APP_OUT.xfer" &
XFER=$!
CONN_PID=$(actor_field conn pid)
echo "kill -9 $CONN_PID (conn)"; kill -9 "$CONN_PID"
wait_for conn restarts 1 && wait_for conn state ACTOR_STATE_RUNNING || die "conn did not come back"
wait "$XFER" && tail -2 "$APP_OUT.xfer"
ctl status

step "the control messages of one new connection (vtas-trace, live)"
"$BIN/vtas-trace" --instance "$INSTANCE" --actor conn -c 8 &
TRACE_PID=$!
wait_for conn tracing True || die "tracing did not start"
"${PEER[@]}" "$BIN/kernel_tcp_tool" connect "$VTAS_DEMO_IP" 7000 --requests 1 --size 64 >/dev/null
wait "$TRACE_PID"

step "counters (vtasctl stats)"
ctl stats | sed -n '/^\[fastpath\]/,/^\[arp\]/p' | head -30

step "stopping (actors stop in reverse start order)"
kill "$APP_PID"; APP_PID=
kill "$VTAS_PID"; wait "$VTAS_PID"; VTAS_PID=
grep -E "exited with" "$LOG" | tail -4
rm -f "$APP_OUT" "$APP_OUT.xfer"
