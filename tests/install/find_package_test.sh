#!/usr/bin/env bash
# Installs this build into a fresh prefix, then builds a project outside the
# tree against it twice: with find_package(weft) + weft::weft, and with
# pkg-config weft. Both programs must run and answer 42.
#   find_package_test.sh BUILD_DIR SOURCE_DIR "EXTRA_CXX_FLAGS"
set -euo pipefail
build=$1 src=$2 flags=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
for f in bin/weft include/weft/thread_pool.hpp lib/cmake/weft/weftConfig.cmake lib/pkgconfig/weft.pc; do
  [ -e "$work/prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
"$work/prefix/bin/weft" --version

cmake -S "$src/examples/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
# shellcheck disable=SC2046,SC2086 # pkg-config output is a list of flags
c++ $flags "$src/examples/consumer/main.cpp" -o "$work/pc_consumer" $(pkg-config --cflags --libs weft)
"$work/pc_consumer" | sed 's/^/pkg-config: /'
