# Result bookkeeping for the real-application tests (sourced): every check prints one line,
# and finish prints "N passed, M failed" and exits non-zero on any failure.
CHECKS_PASSED=0
CHECKS_FAILED=0

check() {  # check "what" command...
  local what=$1; shift
  if "$@"; then
    echo "ok    $what"
    CHECKS_PASSED=$((CHECKS_PASSED + 1))
  else
    echo "FAIL  $what"
    CHECKS_FAILED=$((CHECKS_FAILED + 1))
  fi
}

check_eq() {  # check_eq "what" expected actual
  if [ "$2" = "$3" ]; then
    echo "ok    $1"
    CHECKS_PASSED=$((CHECKS_PASSED + 1))
  else
    echo "FAIL  $1: expected '$2', got '$3'"
    CHECKS_FAILED=$((CHECKS_FAILED + 1))
  fi
}

finish() {
  echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
  [ "$CHECKS_FAILED" -eq 0 ]
}

# A positive number (integer or decimal)?
positive() { awk -v v="$1" 'BEGIN { exit !(v + 0 > 0) }'; }
