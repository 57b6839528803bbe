#!/bin/sh
# Proves applications build against an installed libvtas "the usual way": installs the
# clientlib component of the build into a temporary prefix, then builds examples/ with CMake's
# find_package(vtas) and compiles echo_server.c with `pkg-config --cflags --libs vtas`, and
# runs both binaries far enough to show they load the installed library.
#
#   install_consumer_test.sh BUILD_DIR EXAMPLES_DIR LIBDIR GENERATOR C_COMPILER
set -eu
build=$1
examples=$2
libdir=$3
generator=$4
cc=$5
cmake=${CMAKE:-cmake}
pkg_config=${PKG_CONFIG:-pkg-config}
# A sanitizer build's libvtas needs the sanitizer runtime first in the consumer too.
consumer_ldflags=${CONSUMER_LDFLAGS:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/vtas-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
prefix="$work/prefix"

step() { echo "== $*"; }

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" --component clientlib
for f in include/vtas/tas_ll.h "$libdir/libvtas.so" "$libdir/libvtas.a" \
         "$libdir/pkgconfig/vtas.pc" "$libdir/cmake/vtas/vtasConfig.cmake"; do
  test -e "$prefix/$f" || { echo "missing after install: $f"; exit 1; }
done

# Expects `$@` to print the usage and exit 2 (no arguments), then to fail cleanly with
# "service not running" when no service exists: both prove the installed library loads.
check_binary() {
  status=0
  "$@" >"$work/out" 2>&1 || status=$?
  if [ "$status" -ne 2 ] || ! grep -q usage "$work/out"; then
    echo "unexpected result (exit $status) from $*:"; cat "$work/out"; exit 1
  fi
  status=0
  VTAS_RUNTIME_DIR="$work/no-service" "$@" 7 >"$work/out" 2>&1 || status=$?
  if [ "$status" -ne 1 ] || ! grep -q "service not running" "$work/out"; then
    echo "unexpected result (exit $status) from $* 7 without a service:"; cat "$work/out"; exit 1
  fi
}

step "find_package(vtas): configure and build examples/"
"$cmake" -S "$examples" -B "$work/build" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_EXE_LINKER_FLAGS="$consumer_ldflags"
"$cmake" --build "$work/build"
check_binary "$work/build/echo_server"

step "pkg-config: compile echo_server.c"
PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
export PKG_CONFIG_PATH
flags=$("$pkg_config" --cflags --libs vtas)
echo "pkg-config --cflags --libs vtas: $flags"
# shellcheck disable=SC2086 # the flags are meant to split
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/echo_pc" "$examples/echo_server.c" $flags \
  $consumer_ldflags
LD_LIBRARY_PATH="$prefix/$libdir" check_binary "$work/echo_pc"

step "ok"
