#!/usr/bin/env bash
# The README's main command: builds vtas, starts an instance with the default manifest and
# shows it working: the actors up, a kill -9 and the supervisor's restart, a live trace of
# the control messages, and the counters. Everything it starts it stops again.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
install_packages
setup_hugepages
configure_and_build "$VTAS_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo
BIN="$VTAS_BUILD/bin"
INSTANCE=vtas-demo
RUN_DIR=/run/vtas/$INSTANCE
LOG=$(mktemp /tmp/vtas-demo.XXXXXX.log)
VTAS_PID=
cleanup() {
  [ -n "$VTAS_PID" ] && kill "$VTAS_PID" 2>/dev/null && wait "$VTAS_PID" 2>/dev/null
  rm -f "$LOG"
}
trap cleanup EXIT

step() { printf '\n\033[1;36m== %s\033[0m\n' "$*"; }
ctl() { "$BIN/vtasctl" --instance "$INSTANCE" "$@"; }

# actor_field ACTOR FIELD: one field of one actor from `vtasctl --json status`.
actor_field() {
  ctl --json status | python3 -c "import json,sys; print([a.get('$2','') for a in json.load(sys.stdin)['actors'] if a['name']=='$1'][0])"
}
# wait_for ACTOR FIELD VALUE: poll the status (the demo has no event to wait on here).
wait_for() {
  for _ in $(seq 200); do
    [ "$(actor_field "$1" "$2")" = "$3" ] && return 0
    sleep 0.05
  done
  return 1
}

step "starting vtas with the default manifest (manifests/default.txtpb)"
READY_FIFO=$(mktemp -u /tmp/vtas-ready.XXXXXX); mkfifo -m 600 "$READY_FIFO"
"$BIN/vtas" --instance "$INSTANCE" --ready-fd=3 3>"$READY_FIFO" 2>"$LOG" &
VTAS_PID=$!
READY_BYTES=$(head -c 8 "$READY_FIFO" | wc -c); rm -f "$READY_FIFO"
[ "$READY_BYTES" = 8 ] || { cat "$LOG"; die "vtas did not become ready"; }
ctl status

step "kill -9 of the 'echo' actor process: the supervisor restarts it alone"
ECHO_PID=$(actor_field echo pid)
echo "kill -9 $ECHO_PID"
kill -9 "$ECHO_PID"
wait_for echo restarts 1 && wait_for echo state ACTOR_STATE_RUNNING || die "echo did not come back"
ctl status

step "a live trace of the control messages (vtas-trace), during a burst of 5 pings"
"$BIN/vtas-trace" --instance "$INSTANCE" --type ping_request --type ping_response -c 10 &
TRACE_PID=$!
wait_for pinger tracing True && wait_for echo tracing True || die "tracing did not start"
ctl call pinger ping_burst 'count: 5'
wait "$TRACE_PID"

step "counters (vtasctl stats)"
ctl stats

step "stopping (actors stop in reverse start order)"
kill "$VTAS_PID"; wait "$VTAS_PID"; VTAS_PID=
grep -E "exited|stopped" "$LOG" | tail -5
