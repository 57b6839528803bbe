#!/usr/bin/env bash
# The benchmark report in one command: runs every benchmark of bench/ side by side with Linux,
# several times, then writes docs/benchmarks.md (Markdown tables: median and spread of the runs,
# ratios vtas / Linux) and PNG charts in docs/img/. The benchmarks themselves are the scripts
# and programs next to this file; this only calls them and collects their tables.
#
#   sudo bench/run_all.sh [--build DIR] [--runs N] [--quick] [--only a,b,...] [--no-build]
#       --runs N    each benchmark runs N times, interleaved (run 1 of all, run 2 of all, ...)
#                   so slow drifts of the machine spread over every benchmark (default 3)
#       --quick     smaller workloads (a smoke run of this script, not numbers to publish)
#       --only      a subset of: tcp,sockets,control,ring,segments,callgrind,restart
#       --kills long  restart times from the long suite (100 kills, ~1 min) instead of the
#                   integration variant (10 kills)
#   Raw outputs go to bench/report/last-run/ (kept: the report can be re-made from them with
#   bench/report/make_report.py without running anything).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=$root/build
RUNS=3
QUICK=""
ONLY="tcp,sockets,control,ring,segments,callgrind,restart"
DO_BUILD=1
KILL_TEST=actor_kill_integration_test
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --quick) QUICK=--quick; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --kills) [ "$2" = long ] && KILL_TEST=long_actor_kill_test; shift 2 ;;
    *) echo "run_all.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "run_all.sh: run as root (namespaces, DPDK)" >&2; exit 1; }
PY=/usr/bin/python3  # Debian's, which has python3-matplotlib (a pyenv python3 may come first in PATH)
"$PY" -c "import matplotlib" 2>/dev/null ||
  { echo "run_all.sh: python3-matplotlib is missing (apt-get install python3-matplotlib)" >&2; exit 1; }
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }

if [ $DO_BUILD = 1 ]; then
  targets="vtas vtasctl vtas_ll_tool kernel_tcp_tool vtas_interpose ring_bench fastpath_segments"
  wanted restart && targets="$targets $KILL_TEST"
  echo "[run_all] building: $targets" >&2
  ninja -C "$BUILD" -j2 $targets >&2 || { echo "run_all.sh: build failed in $BUILD" >&2; exit 1; }
fi

OUT=$here/report/last-run
rm -rf "$OUT"
mkdir -p "$OUT"

# Machine and noise: what else ran. Load average and the CPU time of other processes are
# sampled around every benchmark run and shown in the report.
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host=$(uname -n)"
  echo "kernel=$(uname -r)"
  echo "cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "cpus=$(nproc)"
  echo "memory_gib=$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)"
  echo "runs=$RUNS"
  echo "quick=${QUICK:-no}"
  echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet 2>/dev/null || echo +dirty)"
} > "$OUT/machine.txt"

busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
# run NAME RUN command...: output to NAME.RUN.md, with load and timing in noise.txt.
run() {
  local name=$1 i=$2; shift 2
  local load0 t0 t1
  load0=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(date +%s.%N)
  echo "[run_all] $name run $i: $*" >&2
  "$@" > "$OUT/$name.$i.md" 2> "$OUT/$name.$i.err"
  local rc=$?
  t1=$(date +%s.%N)
  echo "name=$name run=$i rc=$rc seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", b - a}') load_before=$load0 load_after=$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/noise.txt"
  [ $rc = 0 ] || echo "[run_all] $name run $i failed (rc $rc): see $OUT/$name.$i.err" >&2
}

SEG_N=200000
[ -n "$QUICK" ] && SEG_N=50000
for i in $(seq 1 "$RUNS"); do
  wanted tcp && run tcp "$i" "$PY" "$here/tcp_bench.py" --build "$BUILD" --repeats 1 $QUICK
  wanted sockets && run sockets "$i" "$here/sockets_bench.sh" "$BUILD" $QUICK
  wanted control && run control "$i" "$PY" "$here/control_bench.py" --build "$BUILD" --repeats 1 \
    --count $([ -n "$QUICK" ] && echo 5000 || echo 20000)
  wanted ring && run ring "$i" "$BUILD/bin/ring_bench"
  if wanted segments; then
    run segments "$i" sh -c "'$BUILD/bin/fastpath_segments' rx $SEG_N && '$BUILD/bin/fastpath_segments' tx $SEG_N"
  fi
done
# Instruction counts are exact: one run is enough.
wanted callgrind && run callgrind 1 "$here/callgrind_segments.sh" "$BUILD"
# Actor restart time: the actor-kill suite (tests/long) prints one line per kill.
if wanted restart; then
  run restart 1 "$BUILD/bin/$KILL_TEST"
fi

"$PY" "$here/report/make_report.py" --runs-dir "$OUT" --out "$root/docs/benchmarks.md" \
  --img-dir "$root/docs/img" || { echo "run_all.sh: report generation failed" >&2; exit 1; }
echo "[run_all] wrote $root/docs/benchmarks.md and $root/docs/img/*.png" >&2
