#!/usr/bin/env bash
# Instructions per segment of the fast-path core on an in-memory port, exact and repeatable
# (callgrind counts instructions, whatever else the machine does). Runs fastpath_segments
# with two segment counts under callgrind and divides the difference, so set-up costs cancel.
#   bench/callgrind_segments.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-$(dirname "$0")/../build}
BIN="$BUILD/bin/fastpath_segments"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)"; exit 1; }
count() {  # MODE N -> total instructions
  local out; out=$(mktemp)
  # Count only inside the core's loop iteration: parsing, TCP, copies, ACKs, app events.
  valgrind --tool=callgrind --toggle-collect='*FastPathCore::iterate*' \
    --callgrind-out-file="$out" "$BIN" "$1" "$2" >/dev/null 2>&1
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
  rm -f "$out"
}
echo "| direction | instructions per segment |"
echo "|---|---|"
for mode in rx tx; do
  a=$(count "$mode" 2000); b=$(count "$mode" 6000)
  echo "| $mode | $(( (b - a) / 4000 )) |"
done
