#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds vtas (warnings are
# errors), runs every test (unit, integration with real processes), then builds the unit
# tests with ASan+UBSan and runs them too. Prints ctest's summary for each pass.
#
#   sudo scripts/test.sh            # everything the CI runs (well under 45 minutes here)
#   sudo scripts/test.sh --long     # also the long suites (fault injection, soak)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LONG=0
for a in "$@"; do
  case "$a" in
    --long) LONG=1 ;;
    *) die "unknown option $a (use --long)" ;;
  esac
done

require_root
install_packages
setup_hugepages
setup_runtime_tmpfs
configure_and_build "$VTAS_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVTAS_WERROR=ON

status=0
labels="unit|integration"
[ "$LONG" = 1 ] && labels="unit|integration|long"
log "running tests ($labels)"
rm -f "$VTAS_BUILD/Testing/Temporary/LastTestsFailed.log"
(cd "$VTAS_BUILD" && ctest -L "$labels" --output-on-failure --timeout 600) || status=1

ASAN_BUILD="$VTAS_ROOT/build-asan"
cmake -S "$VTAS_ROOT" -B "$ASAN_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVTAS_SANITIZE=ON \
  -DVTAS_BUILD_BENCH=OFF >/dev/null || die "cmake configure failed (sanitizer build)"
log "building unit tests with ASan+UBSan"
ninja -C "$ASAN_BUILD" -j"$(nproc)" unit_tests || die "sanitizer build failed"
log "running unit tests under ASan+UBSan"
rm -f "$ASAN_BUILD/Testing/Temporary/LastTestsFailed.log"
(cd "$ASAN_BUILD" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest -L unit --output-on-failure --timeout 600) || status=1

# The CI shows only the end of this output: repeat which tests failed, from both passes.
print_failed() {
  local list="$1/Testing/Temporary/LastTestsFailed.log"
  [ -s "$list" ] && log "failed in $(basename "$1"): $(cut -d: -f2 "$list" | tr '\n' ' ')"
  return 0
}
if [ $status = 0 ]; then
  log "all test passes succeeded"
else
  print_failed "$VTAS_BUILD"
  print_failed "$ASAN_BUILD"
  log "some tests failed"
fi
exit $status
