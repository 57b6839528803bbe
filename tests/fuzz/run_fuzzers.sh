#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan + libFuzzer, the whole tree
# instrumented) and runs each one for N executions, one at a time, single process (the machine
# is shared). Prints executions, exec/s, coverage and the result per target; crashes and hangs
# are saved under <build>/fuzz-out/artifacts/<target>/. Exit status 1 if any target failed.
#
#   tests/fuzz/run_fuzzers.sh                  # every target, 1,000,000 executions each
#   tests/fuzz/run_fuzzers.sh -n 100000 tcp_receive wire_frame
#   BUILD_DIR=/tmp/b tests/fuzz/run_fuzzers.sh  # default: <repo>/build-fuzz-clang
#
# Each run starts from the checked-in corpus (tests/fuzz/corpus/<target>, read only, without the
# reproducers of open bugs) plus the working corpus of earlier runs
# (<build>/fuzz-out/corpus/<target>, where new inputs go).
# To check a finding in: copy the artifact to tests/fuzz/corpus/<target>/ under a name that says
# what it is (README.md).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-fuzz-clang}
RUNS=1000000
JOBS=${JOBS:-2}

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) RUNS=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "unknown option $1" >&2; usage 2 ;;
    *) break ;;
  esac
done
ALL_TARGETS=$(sed -n 's/^ *X(\([a-z_]*\)).*/\1/p' "$ROOT/tests/fuzz/fuzz_targets.h")
TARGETS=${*:-$ALL_TARGETS}

SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    "-DCMAKE_C_FLAGS=$SAN" "-DCMAKE_CXX_FLAGS=$SAN" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" \
    "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined" \
    -DVTAS_FUZZ=ON -DVTAS_WERROR=OFF -DVTAS_BUILD_BENCH=OFF -DVTAS_VM_QEMU_TESTS=OFF
fi
ninja -C "$BUILD_DIR" -j"$JOBS" $(for t in $TARGETS; do echo "fuzz_$t"; done)

OUT=$BUILD_DIR/fuzz-out
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
summary=()
for t in $TARGETS; do
  mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t" "$OUT/logs"
  # Checked-in reproducers of open bugs (crash-*, hang-*, leak-*) would stop the run at once;
  # the replay test covers them. Everything else seeds the run.
  seeds=$OUT/seeds/$t
  rm -rf "$seeds" && mkdir -p "$seeds"
  find "$ROOT/tests/fuzz/corpus/$t" -type f ! -name 'crash-*' ! -name 'hang-*' \
    ! -name 'leak-*' -exec cp {} "$seeds/" \;
  log=$OUT/logs/$t.log
  echo "== fuzz_$t: $RUNS executions (log: $log)"
  start=$(date +%s)
  set +e
  "$BUILD_DIR/bin/fuzz_$t" -runs="$RUNS" -max_len=4096 -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t/" \
    "$OUT/corpus/$t" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="FAILED (exit $rc): $(ls "$OUT/artifacts/$t" | tr '\n' ' ')"
    failed=1
    grep -m3 -E 'ERROR|fuzz check failed|runtime error' "$log" || true
  fi
  line=$(printf '%-24s execs %-9s exec/s %-7s %-22s %4ss  %s' "$t" "${execs:-?}" "${rate:-?}" \
         "${cov:-cov: ?}" "$secs" "$result")
  echo "$line"
  summary+=("$line")
done
echo
echo "== summary ($RUNS executions requested per target)"
printf '%s\n' "${summary[@]}"
exit $failed
